using System.Diagnostics;
using System.Text.Json;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.SigningKeys;
using Authio.Shared.Sync;

namespace Authio.ControlPlane.EdgeSync;

/// <summary>Snapshot and change feed for edges: every org's revocations, the published keys, in one order.</summary>
internal sealed partial class EdgeSyncService(EdgeChangeStore log, SigningKeyStore keys, ControlPlaneOptions options, TimeProvider time,
    IHostApplicationLifetime lifetime, ILogger<EdgeSyncService> logger, EdgeFeedSigner feedSigner)
{
    public const int DefaultWaitSeconds = 25;
    public const int MaxWaitSeconds = 30;

    /// <summary>How often a waiting long poll re-reads the store, to see changes written by other instances.</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The orgs whose tokens an edge may introspect: those of <c>ControlPlane:ApiKeys:EdgeOrgIds</c> when set, otherwise
    /// every org. The snapshot and feed are not confined: an edge accepts every org's tokens signed with the published
    /// keys, so it must hear every org's revocations (they carry opaque ids only). Org rate limits go to every edge too.
    /// </summary>
    private EdgeScope IntrospectionScope => options.ApiKeys.EdgeOrgIds.Length > 0 ? new(false, options.ApiKeys.EdgeOrgIds) : EdgeScope.Everyone;

    public bool InScope(string orgId) => IntrospectionScope is var s && (s.All || s.Orgs.Contains(orgId, StringComparer.Ordinal));

    public async Task<EdgeSnapshot> SnapshotAsync(CancellationToken ct)
    {
        // Sequence first: every change at or below it is committed (appends are serialised), later ones come through the feed.
        var sequence = await log.LastSequenceAsync(ct);
        var revocations = await log.LiveRevocationsAsync(sequence, EdgeScope.Everyone, ct);
        var jwks = JsonSerializer.SerializeToElement(SigningKeyStore.JwksOf(await keys.PublishedAsync(ct)));
        var issuer = new EdgeIssuerInfo(options.Issuer, [options.Audience], options.Issuer.TrimEnd('/') + "/.well-known/jwks.json", jwks);
        // Read after the sequence: an org limit written since then is in both the snapshot and the feed, and applying it twice is harmless.
        var orgSettings = await log.OrgRateLimitsAsync(ct);
        Log.Snapshot(logger, sequence, revocations.Count);
        return new EdgeSnapshot(sequence, issuer, revocations.Select(r => r.ToRevocation()).ToArray(), time.GetUtcNow(), [.. orgSettings],
            RedisRevocations: !string.IsNullOrWhiteSpace(options.Redis), FeedKey: feedSigner.PublicKey);
    }

    /// <summary>
    /// Changes after <paramref name="after"/>; when there are none, waits up to <paramref name="waitSeconds"/> (wall clock)
    /// for one: woken at once by a commit on this instance, re-reading every <see cref="RecheckInterval"/> otherwise.
    /// </summary>
    public async Task<EdgeChangeBatch> ChangesAsync(long after, int waitSeconds, CancellationToken requestAborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
        try
        {
            return await WaitForChangesAsync(after, waitSeconds, linked.Token);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            // The edge hung up (or this instance is stopping) mid-wait: nothing to answer, nothing went wrong.
            return new EdgeChangeBatch(after, [], false);
        }
    }

    private async Task<EdgeChangeBatch> WaitForChangesAsync(long after, int waitSeconds, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var wait = TimeSpan.FromSeconds(waitSeconds);
        var first = true;
        while (true)
        {
            var signal = log.Signal;
            if (after < await log.PrunedThroughAsync(ct))
            {
                return Reset(after);
            }

            var rows = await log.ChangesAfterAsync(after, EdgeScope.Everyone, ct);
            if (rows.Count > 0)
            {
                return new EdgeChangeBatch(rows[^1].Seq, rows.Select(r => r.ToChange()).ToArray(), false);
            }
            // An edge ahead of the log (e.g. the store was restored from a backup) must start over too.
            if (first && after > await log.LastSequenceAsync(ct))
            {
                return Reset(after);
            }

            first = false;
            var remaining = wait - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                return new EdgeChangeBatch(after, [], false);
            }

            await Task.WhenAny(signal, Task.Delay(remaining < RecheckInterval ? remaining : RecheckInterval, ct));
            if (ct.IsCancellationRequested)
            {
                return new EdgeChangeBatch(after, [], false);
            }
        }
    }

    private EdgeChangeBatch Reset(long after)
    {
        Log.Reset(logger, after);
        return new EdgeChangeBatch(after, [], true);
    }
}
