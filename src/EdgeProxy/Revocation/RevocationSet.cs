using System.Collections.Immutable;
using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.Revocation;

/// <summary>
/// One revoked credential: <paramref name="Value"/> is a jti, sid, user id (with its not-before) or API key id;
/// <paramref name="Sequence"/> is its change-log position (0 when unknown). <paramref name="Org"/>: a user's not-before
/// concerns only that org's tokens of the user; null (older control plane) means every org.
/// </summary>
internal readonly record struct RevokedId(RevocationKind Kind, string Value, long ExpiresAtUnix, long NotBeforeUnix = 0, long Sequence = 0, string? Org = null)
{
    /// <summary>The exact-set key: the org matters only for a user's not-before ("" = every org).</summary>
    internal (RevocationKind, string, string) Key => (Kind, Kind == RevocationKind.UserNotBefore ? Org ?? "" : "", Value);

    /// <summary>True for a user not-before that is tied to one org (bloom: org and user hashed together).</summary>
    internal bool PerOrg => Kind == RevocationKind.UserNotBefore && Org is not null;
}

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
    private readonly ImmutableDictionary<(RevocationKind, string, string), RevokedId> _exact;

    private RevocationSet(BloomFilter bloom, ImmutableDictionary<(RevocationKind, string, string), RevokedId> exact, long sequence,
        bool remoteExact, int bloomCount, long mirroredThrough, bool anyOrgWideUserNotBefore)
    {
        AnyOrgWideUserNotBefore = anyOrgWideUserNotBefore;
        Bloom = bloom;
        _exact = exact;
        Sequence = sequence;
        RemoteExact = remoteExact;
        BloomCount = bloomCount;
        MirroredThrough = mirroredThrough;
    }

    private static long s_generations;

    /// <summary>
    /// Unique per snapshot (one interlocked increment as a snapshot is built, off the request path): what a cache of answers
    /// made against a snapshot remembers instead of the snapshot itself, which would keep every superseded filter alive.
    /// </summary>
    public long Generation { get; } = Interlocked.Increment(ref s_generations);

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
    /// <summary>
    /// True once a user not-before without an org was added (older control plane): only then does a request pay for the
    /// second, org-less filter probe.
    /// </summary>
    public bool AnyOrgWideUserNotBefore { get; }

    public static RevocationSet Empty(int capacity, double falsePositiveRate, bool remoteExact = false) =>
        new(BloomFilter.Create(capacity, falsePositiveRate), ImmutableDictionary<(RevocationKind, string, string), RevokedId>.Empty, 0, remoteExact, 0, 0, false);

    /// <summary>
    /// A new snapshot with <paramref name="added"/>. In memory, expired entries are dropped and the filter rebuilt when
    /// they dominate or when the filter is over capacity (its false-positive rate would climb). With the exact set in
    /// Redis, the tail keeps only what Redis may not hold yet (sequence above <paramref name="mirroredThrough"/>).
    /// </summary>
    public RevocationSet With(IReadOnlyCollection<RevokedId> added, long sequence, long nowUnix, double falsePositiveRate, long mirroredThrough = 0)
    {
        var builder = _exact.ToBuilder();
        var orgWide = AnyOrgWideUserNotBefore || added.Any(id => id.Kind == RevocationKind.UserNotBefore && id.Org is null);
        if (RemoteExact)
        {
            mirroredThrough = Math.Max(mirroredThrough, MirroredThrough);
            var bits = added.Count == 0 ? Bloom : Bloom.CloneForWrite(); // a prune shares the filter
            foreach (var id in added)
            {
                AddTo(bits, id);
                if (id.Sequence > mirroredThrough && id.ExpiresAtUnix > nowUnix)
                {
                    builder[id.Key] = id;
                }
            }
            builder.RemoveRange(builder.Values.Where(id => id.Sequence <= mirroredThrough || id.ExpiresAtUnix <= nowUnix).Select(id => id.Key).ToArray());
            return new RevocationSet(bits, builder.ToImmutable(), sequence, true, BloomCount + added.Count, mirroredThrough, orgWide);
        }
        foreach (var id in added)
        {
            builder[id.Key] = id;
        }
        var expired = builder.Values.Count(id => id.ExpiresAtUnix <= nowUnix);
        if (builder.Count > Bloom.Capacity || expired > builder.Count / 2)
        {
            foreach (var id in builder.Values.Where(id => id.ExpiresAtUnix <= nowUnix).ToArray())
            {
                builder.Remove(id.Key);
            }
            var rebuilt = BloomFilter.Create(Math.Max(Bloom.Capacity, builder.Count * 2), falsePositiveRate);
            foreach (var id in builder.Values)
            {
                AddTo(rebuilt, id);
            }
            return new RevocationSet(rebuilt, builder.ToImmutable(), sequence, false, builder.Count, 0, orgWide);
        }
        var bloom = Bloom.CloneForWrite();
        foreach (var id in added)
        {
            AddTo(bloom, id);
        }
        return new RevocationSet(bloom, builder.ToImmutable(), sequence, false, builder.Count, 0, orgWide);
    }

    private static void AddTo(BloomFilter bloom, RevokedId id)
    {
        if (id.PerOrg)
        {
            bloom.Add(id.Kind, id.Org, id.Value);
        }
        else
        {
            bloom.Add(id.Kind, id.Value);
        }
    }

    /// <summary>Whether <paramref name="identity"/> carries a revoked id, as far as memory can tell (tests, in-memory mode).</summary>
    public bool IsRevoked(EdgeIdentity identity, long nowUnix) => Check(identity, nowUnix) == RevocationVerdict.Revoked;

    /// <summary>The bloom filter answers almost every call alone, allocation-free (RevocationBenchmarks, figures in bench/README.md).</summary>
    public RevocationVerdict Check(EdgeIdentity identity, long nowUnix) => Check(identity, nowUnix, out _);

    /// <summary>
    /// As above; <paramref name="positiveAt"/> is the <see cref="System.Diagnostics.Stopwatch"/> timestamp of the first
    /// filter positive (0 when the filter answered alone), so the caller can time the confirmation that followed.
    /// </summary>
    public RevocationVerdict Check(EdgeIdentity identity, long nowUnix, out long positiveAt)
    {
        var probe = default(Probe);
        var verdict = Matches(RevocationKind.TokenId, identity.TokenId, nowUnix, ref probe)
            || Matches(RevocationKind.SessionId, identity.SessionId, nowUnix, ref probe)
            || Matches(RevocationKind.ApiKey, identity.KeyId, nowUnix, ref probe)
            || IssuedBeforeUserNotBefore(identity, nowUnix, ref probe)
            ? RevocationVerdict.Revoked
            : probe.Unconfirmed ? RevocationVerdict.Unconfirmed : RevocationVerdict.Clean;
        positiveAt = probe.PositiveAt;
        return verdict;
    }

    /// <summary>What the filter said on the way: a positive's time, and whether memory could not settle one.</summary>
    private struct Probe
    {
        public bool Unconfirmed;
        public long PositiveAt;

        public void Positive()
        {
            if (PositiveAt == 0)
            {
                PositiveAt = System.Diagnostics.Stopwatch.GetTimestamp();
            }
        }
    }

    /// <summary>The ids of <paramref name="identity"/> that the filter flags and the local tail cannot settle.</summary>
    /// <remarks><c>Org</c> is set only for a user's per-org not-before ("" in the exact set = every org, null here).</remarks>
    public void CollectUnsettled(EdgeIdentity identity, List<(RevocationKind Kind, string? Org, string Value)> unsettled)
    {
        Add(RevocationKind.TokenId, identity.TokenId);
        Add(RevocationKind.SessionId, identity.SessionId);
        Add(RevocationKind.ApiKey, identity.KeyId);
        if (identity.Subject is { } subject)
        {
            if (identity.Org is { } org && Bloom.MightContain(RevocationKind.UserNotBefore, org, subject)
                && !_exact.ContainsKey((RevocationKind.UserNotBefore, org, subject)))
            {
                unsettled.Add((RevocationKind.UserNotBefore, org, subject));
            }
            if (AnyOrgWideUserNotBefore)
            {
                Add(RevocationKind.UserNotBefore, subject);
            }
        }

        void Add(RevocationKind kind, string? value)
        {
            if (value is not null && Bloom.MightContain(kind, value) && !_exact.ContainsKey((kind, "", value)))
            {
                unsettled.Add((kind, null, value));
            }
        }
    }

    private bool Matches(RevocationKind kind, string? value, long nowUnix, ref Probe probe)
    {
        if (value is null || !Bloom.MightContain(kind, value))
        {
            return false;
        }
        probe.Positive();
        if (_exact.TryGetValue((kind, "", value), out var entry))
        {
            return entry.ExpiresAtUnix > nowUnix;
        }
        probe.Unconfirmed |= RemoteExact;
        return false;
    }

    /// <summary>
    /// The user's not-before in the token's org (org and user hashed together: no string is built), and — only when an
    /// older control plane sent one without an org — the user's org-wide not-before.
    /// </summary>
    private bool IssuedBeforeUserNotBefore(EdgeIdentity identity, long nowUnix, ref Probe probe)
    {
        if (identity.Subject is not { } subject)
        {
            return false;
        }
        if (identity.Org is { } org && Bloom.MightContain(RevocationKind.UserNotBefore, org, subject)
            && IssuedBefore(identity, (RevocationKind.UserNotBefore, org, subject), nowUnix, ref probe))
        {
            return true;
        }
        return AnyOrgWideUserNotBefore && Bloom.MightContain(RevocationKind.UserNotBefore, subject)
            && IssuedBefore(identity, (RevocationKind.UserNotBefore, "", subject), nowUnix, ref probe);
    }

    private bool IssuedBefore(EdgeIdentity identity, (RevocationKind, string, string) key, long nowUnix, ref Probe probe)
    {
        probe.Positive();
        if (_exact.TryGetValue(key, out var entry))
        {
            // The tail holds the newest not-before of this user: nothing older in Redis can be later.
            return entry.ExpiresAtUnix > nowUnix && identity.IssuedAt < entry.NotBeforeUnix;
        }
        probe.Unconfirmed |= RemoteExact;
        return false;
    }
}
