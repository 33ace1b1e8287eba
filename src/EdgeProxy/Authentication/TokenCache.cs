using System.IO.Hashing;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// Validated-token cache: a fixed, 2-way set-associative array of immutable entries keyed by a seeded XxHash3 of
/// the token bytes. Bounded by construction (no eviction thread), lock-free, allocation-free on hits. A hit needs
/// full constant-time byte equality with the cached token, so a hash collision can never authenticate another token.
/// Holds exactly <see cref="Capacity"/> entries (the hash is mapped onto the sets by a multiply, not a mask, so the
/// configured size is the size: a power-of-two rounding would hold up to 31 % more tokens than the operator sized for).
/// An entry carries a referenced bit (set on a hit) so <see cref="Trim"/> can drop the cold ones first under memory
/// pressure (CLOCK, second chance).
/// </summary>
internal sealed class TokenCache
{
    private readonly Entry?[] _slots;
    private readonly ulong _sets;
    private readonly long _seed = TokenTables.NewSeed();
    private long _evictions;

    /// <summary>A cache of <paramref name="capacity"/> entries (rounded up to an even number); 0 makes the disabled cache, which never holds anything.</summary>
    public TokenCache(int capacity)
    {
        var size = capacity <= 0 ? 0 : (int)Math.Min(1 << 30, (capacity + 1L) & ~1L);
        _slots = new Entry?[size];
        _sets = (ulong)size / 2;
    }

    public int Capacity => _slots.Length;

    /// <summary>Entries dropped to make room for another token or to shed memory (<see cref="Trim"/>), since start.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    public bool TryGet(ReadOnlySpan<byte> token, out Entry entry)
    {
        if (_slots.Length == 0)
        {
            entry = null!;
            return false;
        }
        var hash = XxHash3.HashToUInt64(token, _seed);
        var index = IndexOf(hash);
        if (Matches(_slots[index], hash, token, out entry) || Matches(_slots[index + 1], hash, token, out entry))
        {
            entry.MarkReferenced();
            return true;
        }
        return false;
    }

    public void Add(ReadOnlySpan<byte> token, EdgeIdentity identity) => Add(token.ToArray(), identity);

    /// <summary>Caches <paramref name="token"/> (the caller's copy, kept as is: it may be shared with <paramref name="identity"/>).</summary>
    public void Add(byte[] token, EdgeIdentity identity)
    {
        if (_slots.Length == 0)
        {
            return;
        }
        var hash = XxHash3.HashToUInt64(token, _seed);
        var index = IndexOf(hash);
        var first = Volatile.Read(ref _slots[index]);
        var second = Volatile.Read(ref _slots[index + 1]);
        // Fill an empty way, else replace the entry that expires first.
        var target = first is null ? index
            : second is null ? index + 1
            : first.Identity.ExpiresAt <= second.Identity.ExpiresAt ? index : index + 1;
        if (_slots[target] is not null)
        {
            Interlocked.Increment(ref _evictions);
        }
        Volatile.Write(ref _slots[target], new Entry(hash, token, identity));
    }

    /// <summary>Drops <paramref name="entry"/> if it is still cached (expired, revoked or its key retired).</summary>
    public void Remove(Entry entry)
    {
        if (_slots.Length == 0)
        {
            return;
        }
        var index = IndexOf(entry.Hash);
        Interlocked.CompareExchange(ref _slots[index], null, entry);
        Interlocked.CompareExchange(ref _slots[index + 1], null, entry);
    }

    public void Clear() => Array.Clear(_slots);

    /// <summary>Entries held now (a scan of every slot: for gauges and tests, not for the request path).</summary>
    public int Count()
    {
        var count = 0;
        foreach (var slot in _slots)
        {
            count += slot is null ? 0 : 1;
        }
        return count;
    }

    /// <summary>
    /// Sheds memory: drops entries not hit since the previous trim (clearing the referenced bit of the others), until
    /// at most <paramref name="keepFraction"/> of <see cref="Capacity"/> remains; if the cold ones were not enough, the
    /// rest go in slot order. Returns how many entries were dropped. Runs off the request path (the memory monitor).
    /// </summary>
    public int Trim(double keepFraction)
    {
        var target = (int)(Math.Clamp(keepFraction, 0, 1) * _slots.Length);
        var held = Count();
        var dropped = 0;
        for (var pass = 0; pass < 2 && held - dropped > target; pass++)
        {
            for (var i = 0; i < _slots.Length && held - dropped > target; i++)
            {
                if (Volatile.Read(ref _slots[i]) is not { } entry)
                {
                    continue;
                }
                // First pass: second chance for the hot entries; second pass: whatever is left, to reach the target.
                if (pass == 0 && entry.ClearReferenced())
                {
                    continue;
                }
                if (Interlocked.CompareExchange(ref _slots[i], null, entry) == entry)
                {
                    dropped++;
                }
            }
        }
        Interlocked.Add(ref _evictions, dropped);
        return dropped;
    }

    /// <summary>The first slot of the hash's set: (hash × sets) / 2^64, a uniform map onto any number of sets.</summary>
    private int IndexOf(ulong hash) => (int)Math.BigMul(hash, _sets, out _) * 2;

    private static bool Matches(Entry? candidate, ulong hash, ReadOnlySpan<byte> token, out Entry entry)
    {
        entry = candidate!;
        return candidate is not null && candidate.Hash == hash && candidate.Token.Length == token.Length
            && ConstantTime.Equals(candidate.Token, token); // not FixedTimeEquals: ValidationBenchmarks, bench/README.md "Fixed since the first run" 1
    }

    internal sealed class Entry(ulong hash, byte[] token, EdgeIdentity identity)
    {
        private int _referenced;

        public ulong Hash { get; } = hash;
        public byte[] Token { get; } = token;
        public EdgeIdentity Identity { get; } = identity;

        /// <summary>Set on a hit; a plain read first, so a hot entry's cache line is not written on every request.</summary>
        public void MarkReferenced()
        {
            if (_referenced == 0)
            {
                _referenced = 1;
            }
        }

        /// <summary>Clears the bit; true when it was set (the entry was hit since the last trim).</summary>
        public bool ClearReferenced() => Interlocked.Exchange(ref _referenced, 0) != 0;
    }
}
