using System.IO.Hashing;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// Validated-token cache: a fixed, 2-way set-associative array of immutable entries keyed by a seeded XxHash3 of
/// the token bytes. Bounded by construction (no eviction thread), lock-free, allocation-free on hits. A hit needs
/// full constant-time byte equality with the cached token, so a hash collision can never authenticate another token.
/// <para>
/// Memory layout (bench/README.md "Memory per cached credential"): the token bytes live in a slab, one fixed region of
/// <see cref="SlotBytes"/> per slot, allocated once (pinned, uninitialized: a page becomes resident when a token is
/// first written to it), and overwritten in place when the slot changes hands. A cache under churn therefore leaves
/// no token bytes behind for the GC (they were ≈ 55 % of what every miss allocated and the GC had to find dead in
/// generation 2). A token longer than a region is split: the beginning it shares with the tokens of its key and
/// issuer (header, <c>iss</c>, <c>aud</c>: <see cref="TokenPrefixes"/>) is a reference to one shared array, the rest goes
/// in the region; a token whose rest does not fit keeps its own array. Matching stays byte-exact over the whole token. Since a region is reused, a hit reads it between two reads of
/// its slot, and a writer first parks the slot on <see cref="Writing"/>: the bytes compared are the entry's
/// (seqlock; no reader ever matches a half-written region).
/// </para>
/// Holds exactly <see cref="Capacity"/> entries (the hash is mapped onto the sets by a multiply, not a mask, so the
/// configured size is the size: a power-of-two rounding would hold up to 31 % more tokens than the operator sized for).
/// An entry carries a referenced bit (set on a hit) so <see cref="Trim"/> drops the cold ones first (CLOCK).
/// </summary>
internal sealed class TokenCache
{
    /// <summary>
    /// Slab bytes per slot: a token up to this long, or whose part after its shared prefix is, is stored in place
    /// (ES256 access tokens are 500–600 bytes, ≈ 190 of them shared when the payload starts with <c>iss</c> and <c>aud</c>).
    /// </summary>
    public const int SlotBytes = 384;

    /// <summary>Slots per slab chunk (a chunk is one pinned array of 24 MiB, well under the array size limit).</summary>
    private const int ChunkShift = 16;

    /// <summary>Marks a slot whose region is being written; never matches a token (length −1).</summary>
    private static readonly Entry Writing = new(0, -1, [], null!);

    private readonly TokenPrefixes _prefixes = new();

    private readonly Entry?[] _slots;
    private readonly byte[][] _slab;
    private readonly ulong _sets;
    private readonly long _seed = TokenTables.NewSeed();
    private long _evictions;

    /// <summary>A cache of <paramref name="capacity"/> entries (rounded up to an even number); 0 makes the disabled cache, which never holds anything.</summary>
    public TokenCache(int capacity)
    {
        var size = capacity <= 0 ? 0 : (int)Math.Min(1 << 30, (capacity + 1L) & ~1L);
        _slots = new Entry?[size];
        _sets = (ulong)size / 2;
        var chunks = (size + (1 << ChunkShift) - 1) >> ChunkShift;
        _slab = new byte[chunks][];
        for (var c = 0; c < chunks; c++)
        {
            var slots = Math.Min(1 << ChunkShift, size - (c << ChunkShift));
            _slab[c] = GC.AllocateUninitializedArray<byte>(slots * SlotBytes, pinned: true);
        }
    }

    public int Capacity => _slots.Length;

    /// <summary>Bytes of the token slab (fixed at construction; resident only as far as tokens were written).</summary>
    public long SlabBytes => (long)_slots.Length * SlotBytes;

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
        if (Matches(index, hash, token, out entry) || Matches(index + 1, hash, token, out entry))
        {
            entry.MarkReferenced();
            return true;
        }
        return false;
    }

    public void Add(ReadOnlySpan<byte> token, EdgeIdentity identity)
    {
        if (_slots.Length == 0)
        {
            return;
        }
        var hash = XxHash3.HashToUInt64(token, _seed);
        var index = IndexOf(hash);
        var first = Volatile.Read(ref _slots[index]);
        var second = Volatile.Read(ref _slots[index + 1]);
        // Fill an empty way, else replace the entry that expires first (a way being written counts as the newest).
        var target = first is null ? index
            : second is null ? index + 1
            : ReferenceEquals(first, Writing) ? index + 1
            : ReferenceEquals(second, Writing) ? index
            : first.Identity.ExpiresAt <= second.Identity.ExpiresAt ? index : index + 1;
        var current = target == index ? first : second;
        if (ReferenceEquals(current, Writing) || !ReferenceEquals(Interlocked.CompareExchange(ref _slots[target], Writing, current), current))
        {
            return; // another thread is filling this set right now: caching is best effort
        }
        // Head: the shared prefix (the rest goes in the region), or the whole token when the rest would not fit.
        byte[] head = token.Length <= SlotBytes ? [] : _prefixes.For(token);
        if (token.Length - head.Length <= SlotBytes)
        {
            token[head.Length..].CopyTo(Region(target));
        }
        else
        {
            head = token.ToArray();
        }
        if (current is not null)
        {
            Interlocked.Increment(ref _evictions);
        }
        Volatile.Write(ref _slots[target], new Entry(hash, token.Length, head, identity));
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

    public void Clear()
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            if (Volatile.Read(ref _slots[i]) is { } entry && !ReferenceEquals(entry, Writing))
            {
                Interlocked.CompareExchange(ref _slots[i], null, entry);
            }
        }
    }

    /// <summary>Entries held now (a scan of every slot: for gauges and tests, not for the request path).</summary>
    public int Count()
    {
        var count = 0;
        foreach (var slot in _slots)
        {
            count += slot is null || ReferenceEquals(slot, Writing) ? 0 : 1;
        }
        return count;
    }

    /// <summary>
    /// Sheds memory: drops entries not hit since the previous trim (clearing the referenced bit of the others), until
    /// at most <paramref name="keepFraction"/> of <see cref="Capacity"/> remains; if the cold ones were not enough, the
    /// rest go in slot order. Returns how many entries were dropped. Runs off the request path (the memory monitor).
    /// A dropped token's region stays mapped (the slab is fixed); what is freed is its identity, strings and own array.
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
                if (Volatile.Read(ref _slots[i]) is not { } entry || ReferenceEquals(entry, Writing))
                {
                    continue;
                }
                // First pass: second chance for the hot entries; second pass: whatever is left, to reach the target.
                if (pass == 0 && entry.ClearReferenced())
                {
                    continue;
                }
                if (ReferenceEquals(Interlocked.CompareExchange(ref _slots[i], null, entry), entry))
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

    /// <summary>Shared prefixes known now (tests and the memory probe).</summary>
    internal int PrefixCount => _prefixes.Count;

    private Span<byte> Region(int slot) => _slab[slot >> ChunkShift].AsSpan((slot & ((1 << ChunkShift) - 1)) * SlotBytes, SlotBytes);

    private bool Matches(int slot, ulong hash, ReadOnlySpan<byte> token, out Entry entry)
    {
        var candidate = Volatile.Read(ref _slots[slot]);
        entry = candidate!;
        if (candidate is null || candidate.Hash != hash || candidate.Length != token.Length)
        {
            return false;
        }
        var head = candidate.Head;
        if (head.Length == token.Length)
        {
            return ConstantTime.Equals(head, token); // not FixedTimeEquals: ValidationBenchmarks, bench/README.md "Fixed since the first run" 1
        }
        // Both parts compared whatever the first one says (no early exit on the token's contents).
        if (!(ConstantTime.Equals(head, token[..head.Length]) & ConstantTime.Equals(Region(slot)[..(token.Length - head.Length)], token[head.Length..])))
        {
            return false;
        }
        // The region is reused: the bytes just compared were this entry's only if no writer has parked the slot since.
        Interlocked.MemoryBarrier();
        return ReferenceEquals(Volatile.Read(ref _slots[slot]), candidate);
    }

    internal sealed class Entry(ulong hash, int length, byte[] head, EdgeIdentity identity)
    {
        private int _referenced;

        public ulong Hash { get; } = hash;
        /// <summary>The token's length in bytes.</summary>
        public int Length { get; } = length;
        /// <summary>
        /// The token's first bytes: a shared prefix (often empty) whose rest is in the slab region of the entry's slot,
        /// or, when as long as the token, the whole token in an array of its own.
        /// </summary>
        public byte[] Head { get; } = head;
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
