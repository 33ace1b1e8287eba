using System.Collections.Immutable;
using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.Revocation;

/// <summary>One revoked credential: <paramref name="Value"/> is a jti, sid, user id (with its not-before) or API key id.</summary>
internal readonly record struct RevokedId(RevocationKind Kind, string Value, long ExpiresAtUnix, long NotBeforeUnix = 0);

/// <summary>
/// An immutable revocation snapshot: a bloom filter in front of the exact set. Applying changes builds a new snapshot
/// (bits copied, exact set shared structurally) that the caller swaps in whole; readers never see a partial update.
/// </summary>
internal sealed class RevocationSet
{
    private readonly ImmutableDictionary<(RevocationKind, string), RevokedId> _exact;

    private RevocationSet(BloomFilter bloom, ImmutableDictionary<(RevocationKind, string), RevokedId> exact, long sequence)
    {
        Bloom = bloom;
        _exact = exact;
        Sequence = sequence;
    }

    public BloomFilter Bloom { get; }
    public int Count => _exact.Count;
    /// <summary>The change-log sequence this snapshot reflects.</summary>
    public long Sequence { get; }

    public static RevocationSet Empty(int capacity, double falsePositiveRate) =>
        new(BloomFilter.Create(capacity, falsePositiveRate), ImmutableDictionary<(RevocationKind, string), RevokedId>.Empty, 0);

    /// <summary>
    /// A new snapshot with <paramref name="added"/>. Expired entries are dropped and the filter rebuilt when they
    /// dominate or when the filter is over capacity (its false-positive rate would climb).
    /// </summary>
    public RevocationSet With(IReadOnlyCollection<RevokedId> added, long sequence, long nowUnix, double falsePositiveRate)
    {
        var builder = _exact.ToBuilder();
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
            return new RevocationSet(rebuilt, builder.ToImmutable(), sequence);
        }
        var bloom = Bloom.CloneForWrite();
        foreach (var id in added)
        {
            bloom.Add(id.Kind, id.Value);
        }
        return new RevocationSet(bloom, builder.ToImmutable(), sequence);
    }

    /// <summary>Whether <paramref name="identity"/> carries a revoked id. The bloom filter answers almost every call alone.</summary>
    public bool IsRevoked(EdgeIdentity identity, long nowUnix) =>
        Matches(RevocationKind.TokenId, identity.TokenId, nowUnix)
        || Matches(RevocationKind.SessionId, identity.SessionId, nowUnix)
        || Matches(RevocationKind.ApiKey, identity.KeyId, nowUnix)
        || IssuedBeforeUserNotBefore(identity, nowUnix);

    private bool Matches(RevocationKind kind, string? value, long nowUnix) =>
        value is not null && Bloom.MightContain(kind, value)
        && _exact.TryGetValue((kind, value), out var entry) && entry.ExpiresAtUnix > nowUnix;

    private bool IssuedBeforeUserNotBefore(EdgeIdentity identity, long nowUnix) =>
        identity.Subject is not null && Bloom.MightContain(RevocationKind.UserNotBefore, identity.Subject)
        && _exact.TryGetValue((RevocationKind.UserNotBefore, identity.Subject), out var entry)
        && entry.ExpiresAtUnix > nowUnix && identity.IssuedAt < entry.NotBeforeUnix;
}

/// <summary>
/// The in-process revocation stage (embedded default): the current <see cref="RevocationSet"/>, swapped whole on
/// every applied change. The edge-sync feed calls <see cref="Apply"/>; the hot path only reads.
/// </summary>
internal sealed class InMemoryRevocations(TimeProvider time, int capacity = InMemoryRevocations.DefaultCapacity, double falsePositiveRate = InMemoryRevocations.DefaultFalsePositiveRate)
    : IRevocationCheck
{
    public const int DefaultCapacity = 100_000;
    public const double DefaultFalsePositiveRate = 0.001;

    private readonly Lock _writeLock = new();
    private volatile RevocationSet _current = RevocationSet.Empty(capacity, falsePositiveRate);

    public RevocationSet Current => _current;

    public bool IsRevoked(EdgeIdentity identity) => _current.IsRevoked(identity, time.GetUtcNow().ToUnixTimeSeconds());

    /// <summary>Replaces the whole state (a snapshot from the control plane).</summary>
    public void Replace(IReadOnlyCollection<RevokedId> all, long sequence)
    {
        lock (_writeLock)
        {
            _current = RevocationSet.Empty(Math.Max(capacity, all.Count * 2), falsePositiveRate)
                .With(all, sequence, time.GetUtcNow().ToUnixTimeSeconds(), falsePositiveRate);
        }
    }

    public void Apply(IReadOnlyCollection<RevokedId> added, long sequence)
    {
        lock (_writeLock)
        {
            _current = _current.With(added, sequence, time.GetUtcNow().ToUnixTimeSeconds(), falsePositiveRate);
        }
    }
}
