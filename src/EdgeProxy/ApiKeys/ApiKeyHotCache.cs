using System.Buffers.Binary;
using System.Diagnostics;
using System.Numerics;
using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.ApiKeys;

/// <summary>
/// The allocation-free front of API-key lookups: a 2-way set-associative array keyed by the key's SHA-256 digest
/// (already uniform, so its first bytes index directly). Holds positive and negative answers with a freshness deadline;
/// anything stale or missing goes to the FusionCache path.
/// <para>
/// The array starts at <see cref="InitialSlots"/> and doubles when a set is full, up to the configured capacity; only
/// then does a new entry evict. A hit then reads a few cache lines that stay close together, where a full-size array
/// spread the keys in use over hundreds of pages (the profile under load in bench/README.md, "API keys: OpenSSL's
/// SHA-256 block function, a hot cache that grows"; on an idle core ApiKeyHotCacheBenchmarks shows no difference).
/// Readers take the current array lock-free; writers (misses, refreshes, pushed changes, memory trims: all rare) take
/// one lock, so a pushed removal can never race a resize and survive it.
/// </para>
/// </summary>
internal sealed class ApiKeyHotCache
{
    /// <summary>Slots a new cache starts with (2 KiB of references).</summary>
    internal const int InitialSlots = 256;

    private readonly int _maxSlots;
    private readonly Lock _gate = new();
    /// <summary>Replaced whole when it grows; never written outside <see cref="_gate"/>.</summary>
    private Entry?[] _slots;
    private int _held;

    public ApiKeyHotCache(int capacity)
    {
        _maxSlots = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, capacity));
        _slots = new Entry?[Math.Min(InitialSlots, _maxSlots)];
    }

    /// <summary>Slots of the current array (diagnostics and tests): grows from <see cref="InitialSlots"/> up to the capacity.</summary>
    internal int Slots => Volatile.Read(ref _slots).Length;

    /// <summary>Entries held now.</summary>
    internal int Count => Volatile.Read(ref _held);

    public bool TryGet(ReadOnlySpan<byte> digest, long now, out Entry entry)
    {
        var slots = Volatile.Read(ref _slots);
        var index = IndexOf(digest, slots.Length);
        return Matches(slots[index], digest, now, out entry) || Matches(slots[index ^ 1], digest, now, out entry);
    }

    /// <summary>The entry for <paramref name="digest"/> whether fresh or not (the caller decides what staleness allows).</summary>
    public bool TryGetAny(ReadOnlySpan<byte> digest, out Entry entry) => TryGet(digest, long.MinValue, out entry);

    public void Set(Entry entry)
    {
        lock (_gate)
        {
            var slots = _slots;
            // Replace the same digest in place, else fill an empty way, else grow (below capacity), else evict the entry
            // that goes stale first.
            var target = FreeOrSameWay(slots, entry);
            while (target < 0 && slots.Length < _maxSlots)
            {
                slots = Grow(slots);
                target = FreeOrSameWay(slots, entry);
            }
            if (target < 0)
            {
                var index = SetOf(entry, slots.Length);
                target = slots[index]!.FreshUntil <= slots[index ^ 1]!.FreshUntil ? index : index ^ 1;
            }
            else if (slots[target] is null)
            {
                _held++;
            }
            Volatile.Write(ref slots[target], entry);
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            Array.Clear(_slots);
            _held = 0;
        }
    }

    /// <summary>
    /// Drops every entry of key <paramref name="keyId"/> (each of its secrets has one) and returns their digests, so the
    /// caller can drop them from the other cache levels too. A scan of all slots: for rare pushed changes only.
    /// </summary>
    public List<byte[]> Forget(string keyId)
    {
        var digests = new List<byte[]>();
        lock (_gate)
        {
            var slots = _slots;
            for (var i = 0; i < slots.Length; i++)
            {
                if (slots[i] is { Identity.KeyId: { } id } entry && id == keyId)
                {
                    Volatile.Write(ref slots[i], null);
                    _held--;
                    digests.Add(entry.Digest);
                }
            }
        }
        return digests;
    }

    /// <summary>
    /// Sheds memory (the memory monitor): drops entries in slot order until at most <paramref name="keepFraction"/> of
    /// the slots are held. A dropped key is looked up again (FusionCache, then the control plane) on its next request.
    /// </summary>
    public int Trim(double keepFraction)
    {
        lock (_gate)
        {
            var slots = _slots;
            var target = (int)(Math.Clamp(keepFraction, 0, 1) * slots.Length);
            var dropped = 0;
            for (var i = 0; i < slots.Length && _held > target; i++)
            {
                if (slots[i] is not null)
                {
                    Volatile.Write(ref slots[i], null);
                    _held--;
                    dropped++;
                }
            }
            return dropped;
        }
    }

    /// <summary>The first way of a digest's set: its first four bytes, masked to the array (already uniform: a SHA-256).</summary>
    private static int IndexOf(ReadOnlySpan<byte> digest, int length) => (int)BinaryPrimitives.ReadUInt32LittleEndian(digest) & (length - 1);

    private static int SetOf(Entry entry, int length) => (int)entry.SetBits & (length - 1);

    /// <summary>The way of <paramref name="entry"/>'s set that holds its digest or is empty; -1 when both hold others.</summary>
    private static int FreeOrSameWay(Entry?[] slots, Entry entry)
    {
        var index = SetOf(entry, slots.Length);
        return slots[index] is not { } first || first.SameDigest(entry) ? index
            : slots[index ^ 1] is not { } second || second.SameDigest(entry) ? index ^ 1
            : -1;
    }

    /// <summary>A copy at twice the size, published whole: readers holding the old array still see every entry it had.</summary>
    private Entry?[] Grow(Entry?[] slots)
    {
        var grown = new Entry?[slots.Length * 2];
        foreach (var entry in slots)
        {
            if (entry is not null)
            {
                // A set splits into two sets of the new array, each with two ways: every entry finds one, so the count holds.
                var way = FreeOrSameWay(grown, entry);
                Debug.Assert(way >= 0, "a set of the old array held more than two entries");
                grown[way] = entry;
            }
        }
        Volatile.Write(ref _slots, grown);
        return grown;
    }

    private static bool Matches(Entry? candidate, ReadOnlySpan<byte> digest, long now, out Entry entry)
    {
        entry = candidate!;
        return candidate is not null && (now == long.MinValue || now < candidate.FreshUntil) && candidate.Holds(digest);
    }

    /// <summary>One cached answer: <see cref="Identity"/> for a usable key, or <see cref="Rejection"/> for a refused one.</summary>
    internal sealed class Entry(ReadOnlySpan<byte> digest, EdgeIdentity? identity, Errors.EdgeError? rejection, long freshUntil, long expiresAtUnix, ApiKeyUsageCounter? usage)
    {
        // The digest lives in the entry, not in an array of its own: a hit reads one object fewer.
        private readonly ulong _digest0 = BinaryPrimitives.ReadUInt64LittleEndian(digest);
        private readonly ulong _digest1 = BinaryPrimitives.ReadUInt64LittleEndian(digest[8..]);
        private readonly ulong _digest2 = BinaryPrimitives.ReadUInt64LittleEndian(digest[16..]);
        private readonly ulong _digest3 = BinaryPrimitives.ReadUInt64LittleEndian(digest[24..32]);

        /// <summary>A copy of the key's SHA-256 digest (rare paths: a pushed change's removal, a refresh).</summary>
        public byte[] Digest
        {
            get
            {
                var digest = new byte[32];
                BinaryPrimitives.WriteUInt64LittleEndian(digest, _digest0);
                BinaryPrimitives.WriteUInt64LittleEndian(digest.AsSpan(8), _digest1);
                BinaryPrimitives.WriteUInt64LittleEndian(digest.AsSpan(16), _digest2);
                BinaryPrimitives.WriteUInt64LittleEndian(digest.AsSpan(24), _digest3);
                return digest;
            }
        }

        public EdgeIdentity? Identity { get; } = identity;
        public Errors.EdgeError? Rejection { get; } = rejection;
        /// <summary>TimeProvider timestamp after which the answer must be fetched again.</summary>
        public long FreshUntil { get; } = freshUntil;
        /// <summary>The key's own expiry (unix seconds), long.MaxValue when it has none.</summary>
        public long ExpiresAtUnix { get; } = expiresAtUnix;
        public ApiKeyUsageCounter? Usage { get; } = usage;

        /// <summary>The digest's first four bytes, which pick its set.</summary>
        internal uint SetBits => (uint)_digest0;

        private int _refreshing;

        /// <summary>Whether this entry answers for <paramref name="digest"/>: every word compared, no early exit (constant time).</summary>
        public bool Holds(ReadOnlySpan<byte> digest) =>
            ((_digest0 ^ BinaryPrimitives.ReadUInt64LittleEndian(digest)) | (_digest1 ^ BinaryPrimitives.ReadUInt64LittleEndian(digest[8..]))
             | (_digest2 ^ BinaryPrimitives.ReadUInt64LittleEndian(digest[16..])) | (_digest3 ^ BinaryPrimitives.ReadUInt64LittleEndian(digest[24..32]))) == 0;

        public bool SameDigest(Entry other) =>
            _digest0 == other._digest0 && _digest1 == other._digest1 && _digest2 == other._digest2 && _digest3 == other._digest3;

        /// <summary>True for the one caller that gets to refresh this (stale) entry in the background.</summary>
        public bool ClaimRefresh() => Interlocked.Exchange(ref _refreshing, 1) == 0;
    }
}
