using System.Collections.Immutable;
using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.Revocation;

/// <summary>
/// One revoked credential: <paramref name="Value"/> is a jti, sid, user id (with its not-before) or API key id;
/// <paramref name="Sequence"/> is its change-log position (0 when unknown).
/// </summary>
internal readonly record struct RevokedId(RevocationKind Kind, string Value, long ExpiresAtUnix, long NotBeforeUnix = 0, long Sequence = 0);

/// <summary>What the in-memory state can tell about a credential without a network call.</summary>
internal enum RevocationVerdict : byte
{
    Clean,
    Revoked,
    /// <summary>A bloom-filter positive that only the Redis-held exact set can settle.</summary>
    Unconfirmed,
}

/// <summary>
/// An immutable revocation snapshot: a bloom filter in front of the exact set. Applying changes builds a new snapshot
/// (bits copied, exact set shared structurally) that the caller swaps in whole; readers never see a partial update.
/// With <see cref="RemoteExact"/> the exact set lives in Redis and this one holds only the tail not yet mirrored there
/// (sequence above <see cref="MirroredThrough"/>): memory is the filter, not the ids.
/// </summary>
internal sealed class RevocationSet
{
    private readonly ImmutableDictionary<(RevocationKind, string), RevokedId> _exact;

    private RevocationSet(BloomFilter bloom, ImmutableDictionary<(RevocationKind, string), RevokedId> exact, long sequence,
        bool remoteExact, int bloomCount, long mirroredThrough)
    {
        Bloom = bloom;
        _exact = exact;
        Sequence = sequence;
        RemoteExact = remoteExact;
        BloomCount = bloomCount;
        MirroredThrough = mirroredThrough;
    }

    public BloomFilter Bloom { get; }
    /// <summary>Ids held exactly in memory (all of them, or the unmirrored tail with <see cref="RemoteExact"/>).</summary>
    public int Count => _exact.Count;
    /// <summary>The change-log sequence this snapshot reflects.</summary>
    public long Sequence { get; }
    /// <summary>True when bloom positives missing from the local tail are confirmed against Redis.</summary>
    public bool RemoteExact { get; }
    /// <summary>Ids added to the filter since it was built.</summary>
    public int BloomCount { get; }
    /// <summary>With <see cref="RemoteExact"/>: the sequence through which Redis was last seen to hold every revocation.</summary>
    public long MirroredThrough { get; }
    /// <summary>With <see cref="RemoteExact"/> the filter cannot be rebuilt from the tail: a full snapshot must do it.</summary>
    public bool NeedsSnapshot => RemoteExact && BloomCount > Bloom.Capacity;

    public static RevocationSet Empty(int capacity, double falsePositiveRate, bool remoteExact = false) =>
        new(BloomFilter.Create(capacity, falsePositiveRate), ImmutableDictionary<(RevocationKind, string), RevokedId>.Empty, 0, remoteExact, 0, 0);

    /// <summary>
    /// A new snapshot with <paramref name="added"/>. In memory, expired entries are dropped and the filter rebuilt when
    /// they dominate or when the filter is over capacity (its false-positive rate would climb). With the exact set in
    /// Redis, the tail keeps only what Redis may not hold yet (sequence above <paramref name="mirroredThrough"/>).
    /// </summary>
    public RevocationSet With(IReadOnlyCollection<RevokedId> added, long sequence, long nowUnix, double falsePositiveRate, long mirroredThrough = 0)
    {
        var builder = _exact.ToBuilder();
        if (RemoteExact)
        {
            mirroredThrough = Math.Max(mirroredThrough, MirroredThrough);
            var bits = added.Count == 0 ? Bloom : Bloom.CloneForWrite(); // a prune shares the filter
            foreach (var id in added)
            {
                bits.Add(id.Kind, id.Value);
                if (id.Sequence > mirroredThrough && id.ExpiresAtUnix > nowUnix)
                {
                    builder[(id.Kind, id.Value)] = id;
                }
            }
            builder.RemoveRange(builder.Values.Where(id => id.Sequence <= mirroredThrough || id.ExpiresAtUnix <= nowUnix).Select(id => (id.Kind, id.Value)).ToArray());
            return new RevocationSet(bits, builder.ToImmutable(), sequence, true, BloomCount + added.Count, mirroredThrough);
        }
        foreach (var id in added)
        {
            builder[(id.Kind, id.Value)] = id;
        }
        var expired = builder.Values.Count(id => id.ExpiresAtUnix <= nowUnix);
        if (builder.Count > Bloom.Capacity || expired > builder.Count / 2)
        {
            foreach (var id in builder.Values.Where(id => id.ExpiresAtUnix <= nowUnix).ToArray())
            {
                builder.Remove((id.Kind, id.Value));
            }
            var rebuilt = BloomFilter.Create(Math.Max(Bloom.Capacity, builder.Count * 2), falsePositiveRate);
            foreach (var id in builder.Values)
            {
                rebuilt.Add(id.Kind, id.Value);
            }
            return new RevocationSet(rebuilt, builder.ToImmutable(), sequence, false, builder.Count, 0);
        }
        var bloom = Bloom.CloneForWrite();
        foreach (var id in added)
        {
            bloom.Add(id.Kind, id.Value);
        }
        return new RevocationSet(bloom, builder.ToImmutable(), sequence, false, builder.Count, 0);
    }

    /// <summary>Whether <paramref name="identity"/> carries a revoked id, as far as memory can tell (tests, in-memory mode).</summary>
    public bool IsRevoked(EdgeIdentity identity, long nowUnix) => Check(identity, nowUnix) == RevocationVerdict.Revoked;

    /// <summary>The bloom filter answers almost every call alone (≈ 77 ns for a token's three ids: RevocationBenchmarks).</summary>
    public RevocationVerdict Check(EdgeIdentity identity, long nowUnix)
    {
        var unconfirmed = false;
        if (Matches(RevocationKind.TokenId, identity.TokenId, nowUnix, ref unconfirmed)
            || Matches(RevocationKind.SessionId, identity.SessionId, nowUnix, ref unconfirmed)
            || Matches(RevocationKind.ApiKey, identity.KeyId, nowUnix, ref unconfirmed)
            || IssuedBeforeUserNotBefore(identity, nowUnix, ref unconfirmed))
        {
            return RevocationVerdict.Revoked;
        }
        return unconfirmed ? RevocationVerdict.Unconfirmed : RevocationVerdict.Clean;
    }

    /// <summary>The ids of <paramref name="identity"/> that the filter flags and the local tail cannot settle.</summary>
    public void CollectUnsettled(EdgeIdentity identity, List<(RevocationKind Kind, string Value)> unsettled)
    {
        Add(RevocationKind.TokenId, identity.TokenId);
        Add(RevocationKind.SessionId, identity.SessionId);
        Add(RevocationKind.ApiKey, identity.KeyId);
        Add(RevocationKind.UserNotBefore, identity.Subject);

        void Add(RevocationKind kind, string? value)
        {
            if (value is not null && Bloom.MightContain(kind, value) && !_exact.ContainsKey((kind, value)))
            {
                unsettled.Add((kind, value));
            }
        }
    }

    private bool Matches(RevocationKind kind, string? value, long nowUnix, ref bool unconfirmed)
    {
        if (value is null || !Bloom.MightContain(kind, value))
        {
            return false;
        }
        if (_exact.TryGetValue((kind, value), out var entry))
        {
            return entry.ExpiresAtUnix > nowUnix;
        }
        unconfirmed |= RemoteExact;
        return false;
    }

    private bool IssuedBeforeUserNotBefore(EdgeIdentity identity, long nowUnix, ref bool unconfirmed)
    {
        if (identity.Subject is null || !Bloom.MightContain(RevocationKind.UserNotBefore, identity.Subject))
        {
            return false;
        }
        if (_exact.TryGetValue((RevocationKind.UserNotBefore, identity.Subject), out var entry))
        {
            // The tail holds the newest not-before of this user: nothing older in Redis can be later.
            return entry.ExpiresAtUnix > nowUnix && identity.IssuedAt < entry.NotBeforeUnix;
        }
        unconfirmed |= RemoteExact;
        return false;
    }
}
