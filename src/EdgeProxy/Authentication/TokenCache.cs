using System.IO.Hashing;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// Validated-token cache: a fixed, 2-way set-associative array of immutable entries keyed by a seeded XxHash3 of
/// the token bytes. Bounded by construction (no eviction thread), lock-free, allocation-free on hits. A hit needs
/// full constant-time byte equality with the cached token, so a hash collision can never authenticate another token.
/// </summary>
internal sealed class TokenCache
{
    private readonly Entry?[] _slots;
    private readonly int _mask;
    private readonly long _seed = TokenTables.NewSeed();

    /// <summary>A cache of <paramref name="capacity"/> entries (rounded up to a power of two); 0 makes the disabled cache, which never holds anything.</summary>
    public TokenCache(int capacity)
    {
        _slots = new Entry?[TokenTables.SizeFor(capacity)];
        _mask = Math.Max(0, _slots.Length - 1);
    }

    public int Capacity => _slots.Length;

    public bool TryGet(ReadOnlySpan<byte> token, out Entry entry)
    {
        if (_slots.Length == 0)
        {
            entry = null!;
            return false;
        }
        var hash = XxHash3.HashToUInt64(token, _seed);
        var index = (int)hash & _mask;
        return Matches(_slots[index], hash, token, out entry) || Matches(_slots[index ^ 1], hash, token, out entry);
    }

    public void Add(ReadOnlySpan<byte> token, EdgeIdentity identity)
    {
        if (_slots.Length == 0)
        {
            return;
        }
        var hash = XxHash3.HashToUInt64(token, _seed);
        var index = (int)hash & _mask;
        var first = Volatile.Read(ref _slots[index]);
        var second = Volatile.Read(ref _slots[index ^ 1]);
        // Fill an empty way, else replace the entry that expires first.
        var target = first is null ? index
            : second is null ? index ^ 1
            : first.Identity.ExpiresAt <= second.Identity.ExpiresAt ? index : index ^ 1;
        Volatile.Write(ref _slots[target], new Entry(hash, token.ToArray(), identity));
    }

    /// <summary>Drops <paramref name="entry"/> if it is still cached (expired, revoked or its key retired).</summary>
    public void Remove(Entry entry)
    {
        if (_slots.Length == 0)
        {
            return;
        }
        var index = (int)entry.Hash & _mask;
        Interlocked.CompareExchange(ref _slots[index], null, entry);
        Interlocked.CompareExchange(ref _slots[index ^ 1], null, entry);
    }

    public void Clear() => Array.Clear(_slots);

    private static bool Matches(Entry? candidate, ulong hash, ReadOnlySpan<byte> token, out Entry entry)
    {
        entry = candidate!;
        return candidate is not null && candidate.Hash == hash && candidate.Token.Length == token.Length
            && ConstantTime.Equals(candidate.Token, token); // not FixedTimeEquals: ValidationBenchmarks, bench/README.md "Fixed since the first run" 1
    }

    internal sealed class Entry(ulong hash, byte[] token, EdgeIdentity identity)
    {
        public ulong Hash { get; } = hash;
        public byte[] Token { get; } = token;
        public EdgeIdentity Identity { get; } = identity;
    }
}
