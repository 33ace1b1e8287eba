using System.Text.Json;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Keys;
using OpenTelemetry.Metrics;

namespace Authio.EdgeProxy.Admin;

/// <summary>
/// The admin listener: /healthz, /readyz and Prometheus /metrics, on its own port (Edge:AdminUrls) so operational
/// endpoints are never reachable through the proxy port and never pass through the auth pipeline.
/// </summary>
internal static class AdminApp
{
    /// <summary>The admin host's application name: tracing leaves its requests (scrapes, probes) out.</summary>
    public const string ApplicationName = "Authio.EdgeProxy.Admin";

    public static WebApplication Build(IServiceProvider edgeServices, string adminUrls)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = ApplicationName });
        builder.WebHost.UseUrls(adminUrls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.Logging.ClearProviders();
        var registry = edgeServices.GetRequiredService<IssuerRegistry>();
        var sync = edgeServices.GetService<Sync.EdgeSyncClient>();
        var redis = edgeServices.GetService<Redis.EdgeRedis>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            // Per-request ASP.NET/Kestrel histograms are left out: recording them costs every proxied request. The
            // edge's own per-request histograms are not the SDK's either (EdgeMetrics.Histograms, written below).
            .AddMeter(EdgeMetrics.MeterName, "System.Runtime")
            .AddPrometheusExporter());

        var app = builder.Build();
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", () =>
        {
            var issuers = registry.Issuers.Select(i => new ReadyIssuer(i.Name, i.IsReady, i.Keys?.Keys.Length ?? 0, i.Keys?.LoadedAt,
                i.RefreshFailure is { } f ? new RefreshFailure(f.Reason, f.Since, f.Last) : null)).ToArray();
            var feed = sync is null ? null : new FeedStatus(sync.HasSnapshot, sync.IsFresh, sync.Sequence);
            var ready = issuers.All(i => i.Ready) && (feed is null || feed.Fresh);
            // A refused key update leaves the last good keys serving, so the edge stays ready (a bad key of one org must not
            // take every edge out of rotation); the status and the reasons say what was refused.
            var refused = registry.Health.Refused.OrderBy(r => r.Scope, StringComparer.Ordinal)
                .Select(r => new RefusedKeySet(r.Scope == "" ? null : r.Scope, r.Reason, r.At)).ToArray();
            // Redis down leaves the edge serving (each consumer falls back; see README, Redis), so it stays ready: the
            // status says "degraded" and the redis member why, for the operator and the fault suite.
            var redisStatus = redis is null ? null : new RedisStatus(redis.IsAvailable);
            // A JWKS endpoint that fails or serves garbage likewise leaves the last good keys serving: "degraded", with
            // the issuer's refreshFailure saying why, until a refresh succeeds.
            var degraded = redisStatus is { Available: false } || issuers.Any(i => i.RefreshFailure is not null);
            var status = ready
                ? refused.Length > 0 ? "keys_refused" : degraded ? "degraded" : "ready"
                : feed is { Snapshot: true, Fresh: false } ? "degraded" : "not_ready";
            return Results.Json(new ReadyReport(status, issuers, feed, refused, redisStatus), AdminJson.Options, statusCode: ready ? 200 : 503);
        });
        app.UseEdgeHistograms(edgeServices.GetRequiredService<EdgeMetrics>(), "/metrics");
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    private sealed record ReadyIssuer(string Issuer, bool Ready, int Keys, DateTimeOffset? LoadedAt, RefreshFailure? RefreshFailure);

    /// <summary>The issuer's JWKS refreshes have failed since <c>Since</c> (last at <c>Last</c>); its last good keys serve.</summary>
    private sealed record RefreshFailure(string Reason, DateTimeOffset Since, DateTimeOffset Last);

    private sealed record FeedStatus(bool Snapshot, bool Fresh, long Sequence);

    /// <param name="Org">The org whose keys were refused; null for keys without an org, <c>*</c> for a whole key set.</param>
    private sealed record RefusedKeySet(string? Org, string Reason, DateTimeOffset At);

    /// <summary>Present when <c>Edge:Redis</c> is set: whether the shared connection answers (its breaker is closed).</summary>
    private sealed record RedisStatus(bool Available);

    private sealed record ReadyReport(string Status, ReadyIssuer[] Issuers, FeedStatus? Feed, RefusedKeySet[] RefusedKeySets, RedisStatus? Redis);

    private static class AdminJson
    {
        public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
    }
}
