using System.Buffers.Binary;

using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.ApiKeys;

/// <summary>
/// The allocation-free front of API-key lookups: a fixed 2-way set-associative array keyed by the key's SHA-256
/// digest (already uniform, so its first bytes index directly). Holds positive and negative answers with a
/// freshness deadline; anything stale or missing goes to the FusionCache path.
/// </summary>
internal sealed class ApiKeyHotCache
{
    private readonly Entry?[] _slots;
    private readonly int _mask;

    public ApiKeyHotCache(int capacity)
    {
        var size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, capacity));
        _slots = new Entry?[size];
        _mask = size - 1;
    }

    public bool TryGet(ReadOnlySpan<byte> digest, long now, out Entry entry)
    {
        var index = IndexOf(digest);
        return Matches(_slots[index], digest, now, out entry) || Matches(_slots[index ^ 1], digest, now, out entry);
    }

    /// <summary>The entry for <paramref name="digest"/> whether fresh or not (the caller decides what staleness allows).</summary>
    public bool TryGetAny(ReadOnlySpan<byte> digest, out Entry entry) =>
        Matches(_slots[IndexOf(digest)], digest, long.MinValue, out entry) || Matches(_slots[IndexOf(digest) ^ 1], digest, long.MinValue, out entry);

    public void Set(Entry entry)
    {
        var index = IndexOf(entry.Digest);
        var first = Volatile.Read(ref _slots[index]);
        // Replace the same digest in place, else fill an empty way, else evict the entry that goes stale first.
        var target = first is null || first.Digest.AsSpan().SequenceEqual(entry.Digest) ? index
            : Volatile.Read(ref _slots[index ^ 1]) is not { } second || second.Digest.AsSpan().SequenceEqual(entry.Digest) ? index ^ 1
            : first.FreshUntil <= second.FreshUntil ? index : index ^ 1;
        Volatile.Write(ref _slots[target], entry);
    }

    public void Clear() => Array.Clear(_slots);

    /// <summary>
    /// Drops every entry of key <paramref name="keyId"/> (each of its secrets has one) and returns their digests, so the
    /// caller can drop them from the other cache levels too. A scan of all slots: for rare pushed changes only.
    /// </summary>
    public List<byte[]> Forget(string keyId)
    {
        var digests = new List<byte[]>();
        for (var i = 0; i < _slots.Length; i++)
        {
            if (Volatile.Read(ref _slots[i]) is { Identity.KeyId: { } id } entry && id == keyId
                && Interlocked.CompareExchange(ref _slots[i], null, entry) == entry)
            {
                digests.Add(entry.Digest);
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
        var held = 0;
        foreach (var slot in _slots)
        {
            held += slot is null ? 0 : 1;
        }
        var target = (int)(Math.Clamp(keepFraction, 0, 1) * _slots.Length);
        var dropped = 0;
        for (var i = 0; i < _slots.Length && held - dropped > target; i++)
        {
            if (Volatile.Read(ref _slots[i]) is { } entry && Interlocked.CompareExchange(ref _slots[i], null, entry) == entry)
            {
                dropped++;
            }
        }
        return dropped;
    }

    private int IndexOf(ReadOnlySpan<byte> digest) => (int)BinaryPrimitives.ReadUInt32LittleEndian(digest) & _mask;

    private static bool Matches(Entry? candidate, ReadOnlySpan<byte> digest, long now, out Entry entry)
    {
        entry = candidate!;
        return candidate is not null && (now == long.MinValue || now < candidate.FreshUntil) && ConstantTime.Equals(candidate.Digest, digest);
    }

    /// <summary>One cached answer: <see cref="Identity"/> for a usable key, or <see cref="Rejection"/> for a refused one.</summary>
    internal sealed class Entry(byte[] digest, EdgeIdentity? identity, Errors.EdgeError? rejection, long freshUntil, long expiresAtUnix, ApiKeyUsageCounter? usage)
    {
        public byte[] Digest { get; } = digest;
        public EdgeIdentity? Identity { get; } = identity;
        public Errors.EdgeError? Rejection { get; } = rejection;
        /// <summary>TimeProvider timestamp after which the answer must be fetched again.</summary>
        public long FreshUntil { get; } = freshUntil;
        /// <summary>The key's own expiry (unix seconds), long.MaxValue when it has none.</summary>
        public long ExpiresAtUnix { get; } = expiresAtUnix;
        public ApiKeyUsageCounter? Usage { get; } = usage;

        private int _refreshing;

        /// <summary>True for the one caller that gets to refresh this (stale) entry in the background.</summary>
        public bool ClaimRefresh() => Interlocked.Exchange(ref _refreshing, 1) == 0;
    }
}
