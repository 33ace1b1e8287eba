using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.EdgeProxy.Tests.Sync;
using Authio.Shared.Sync;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Tests.Admin;

/// <summary>
/// What an operator scraping a real edge's admin listener sees of its stages and dependencies: negative cache,
/// signature checks, failure budget, rate limits, revocation filter and confirmations (memory and Redis), key-set
/// refreshes, the change feed and Redis/control-plane availability; and that none of it grows a label per path or token.
/// </summary>
/// <remarks>Runs alone (the OpenTelemetry SDK listens to every edge meter in the process; see <see cref="RouteMetricsTests"/>).</remarks>
[Collection(nameof(RouteMetricsTests))]
public sealed class EdgeMetricsScrapeTests : IAsyncLifetime
{
    private static readonly string[] StageSeries =
    [
        "authio_edge_negative_cache_hits_total", "authio_edge_signature_verifications_total", "authio_edge_failure_budget_refusals_total",
        "authio_edge_rate_limit_decisions_total", "authio_edge_revocation_filter_positives_total", "authio_edge_revocation_confirmations_total",
        "authio_edge_revocation_confirmation_duration_seconds_count", "authio_edge_jwks_refreshes_total", "authio_edge_feed_sequence",
        "authio_edge_feed_lag_seconds", "authio_edge_feed_transport", "authio_edge_dependency_up",
    ];

    private readonly RecordingUpstream _upstream = new();
    private readonly JwksServer _jwks = new();
    private readonly TestKey _key = TestKey.Es256("key-1");
    private readonly FakeFeed _feed = new(TestKey.Es256("cp-key-m"));
    private RedisProcess _redis = null!;
    private ConnectionMultiplexer _writer = null!;
    private EdgeTestHost _edge = null!;

    public async Task InitializeAsync()
    {
        await _upstream.StartAsync();
        await _jwks.StartAsync();
        _jwks.Publish(_key);
        await _feed.StartAsync();
        _redis = await RedisProcess.StartAsync();
        _writer = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString + ",syncTimeout=5000");
        _feed.Redis = _writer.GetDatabase();
        _feed.MirrorRevocations = true;
        await _writer.GetDatabase().StringSetAsync(EdgeSyncPaths.RedisRevokedThrough, 0);
        // A JWKS issuer and the control plane's, the feed through Redis, one rate-limited route, a small failure budget.
        var config = EdgeTestHost.DefaultConfig(_upstream.Url, _jwks.JwksUrl);
        config["Edge:ControlPlane:Url"] = _feed.Url;
        config["Edge:ControlPlane:ApiKey"] = _feed.EdgeKey;
        config["Edge:Redis"] = _redis.ConnectionString;
        config["Edge:FailureBudget:Burst"] = "10";
        config["Edge:FailureBudget:PerSecond"] = "0.01";
        config["ReverseProxy:Routes:limited:ClusterId"] = "up";
        config["ReverseProxy:Routes:limited:Match:Path"] = "/limited/{**rest}";
        config["ReverseProxy:Routes:limited:Metadata:Authio.RateLimit"] = "3/1h";
        _edge = await EdgeTestHost.StartAsync(config);
        await _edge.WaitForSnapshotAsync();
    }

    public async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        await _writer.DisposeAsync();
        await _redis.DisposeAsync();
        await _feed.DisposeAsync();
        await _jwks.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private DateTimeOffset Now => _edge.Time.GetUtcNow();

    private string Mint(string sid = "sess_1") => Jwt.Sign(_key, Jwt.Header(_key), Jwt.Claims(Now).Replace("\"sess_1\"", $"\"{sid}\""));

    private string MintFeed(string sid) => Jwt.Sign(_feed.Key, Jwt.Header(_feed.Key),
        Jwt.Claims(Now, iss: FakeFeed.Issuer, aud: $"\"{FakeFeed.Audience}\"").Replace("\"sess_1\"", $"\"{sid}\""));

    /// <summary>A well-formed token for a known kid whose signature no trusted key made.</summary>
    private string Forged() => Jwt.Sign(TestKey.Es256("key-1"), Jwt.Header(_key), Jwt.Claims(Now));

    [RedisFact]
    public async Task A_short_burst_shows_every_stage_and_dependency_series_and_labels_stay_bounded()
    {
        using var abuser = Client(IPAddress.Parse("127.0.0.2")); // its failures spend its own budget, not the callers'
        await Burst(abuser);
        var before = await ScrapeUntilAsync(t => StageSeries.All(name => Series(t, name).Count > 0)
            && Series(t, "authio_edge_revocation_confirmations_total").Any(s => s.Contains("source=\"redis\"")));

        foreach (var name in StageSeries)
        {
            Assert.True(Series(before, name).Count > 0, $"{name} is missing from the scrape:\n{before}");
        }
        var signatures = Series(before, "authio_edge_signature_verifications_total");
        Assert.Contains(signatures, s => s.Contains("alg=\"ES256\"") && s.Contains("result=\"valid\""));
        Assert.Contains(signatures, s => s.Contains("alg=\"ES256\"") && s.Contains("result=\"invalid\""));
        var limits = Series(before, "authio_edge_rate_limit_decisions_total");
        Assert.Contains(limits, s => s.Contains("limit=\"limited\"") && s.Contains("result=\"admitted\""));
        Assert.Contains(limits, s => s.Contains("limit=\"limited\"") && s.Contains("result=\"refused\""));
        var confirmations = Series(before, "authio_edge_revocation_confirmations_total");
        Assert.Contains(confirmations, s => s.Contains("source=\"memory\"") && s.Contains("result=\"revoked\""));
        Assert.Contains(confirmations, s => s.Contains("source=\"redis\"") && s.Contains("result=\"revoked\""));
        var refreshes = Series(before, "authio_edge_jwks_refreshes_total");
        Assert.Contains(refreshes, s => s.Contains($"issuer=\"{Jwt.Issuer}\"") && s.Contains("result=\"ok\""));
        Assert.Contains(refreshes, s => s.Contains($"issuer=\"{FakeFeed.Issuer}\"") && s.Contains("result=\"ok\""));
        Assert.Contains("authio_edge_feed_transport{otel_scope_name=\"Authio.Edge\",transport=\"redis\"} 1", before);
        Assert.Contains("authio_edge_dependency_up{otel_scope_name=\"Authio.Edge\",dependency=\"redis\"} 1", before);
        Assert.Contains("authio_edge_dependency_up{otel_scope_name=\"Authio.Edge\",dependency=\"control_plane\"} 1", before);
        Assert.Equal(_edge.Services.GetRequiredService<RevocationStage>().Current.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Value(Series(before, "authio_edge_feed_sequence").Single()));
        // The documented sub-millisecond buckets (README, Admin listener): a memory confirmation is well under 1 µs … 10 µs.
        Assert.Contains(Series(before, "authio_edge_revocation_confirmation_duration_seconds_bucket"), s => s.Contains("le=\"1E-06\""));

        // 10 000 distinct paths, 100 000 distinct tokens (valid, forged, random): not one label set more.
        var negativeHits = Counter(before, "authio_edge_negative_cache_hits_total");
        await Flood(abuser);
        var after = await ScrapeUntilAsync(t => Counter(t, "authio_edge_failure_budget_refusals_total") >= 95_000);
        foreach (var name in StageSeries.Append("authio_edge_decisions_total").Append("http_server_request_duration_seconds_count"))
        {
            Assert.Equal(string.Join("\n", LabelSets(before, name)), string.Join("\n", LabelSets(after, name)));
        }
        Assert.True(Counter(after, "authio_edge_failure_budget_refusals_total") >= 95_000);
        Assert.True(Counter(after, "authio_edge_negative_cache_hits_total") >= negativeHits);
        Assert.DoesNotContain("/api/r", after);
        Assert.DoesNotContain("eyJ", after);
    }

    /// <summary>A little of everything, so every label value the flood can produce already exists.</summary>
    private async Task Burst(HttpClient abuser)
    {
        await Expect(HttpStatusCode.OK, _edge.Client, "/api/x", Mint());
        await Expect(HttpStatusCode.Unauthorized, _edge.Client, "/api/x", Forged());
        var expired = Jwt.Sign(_key, Jwt.Header(_key), Jwt.Claims(Now.AddHours(-2), exp: Now.AddHours(-1).ToUnixTimeSeconds()));
        await Expect(HttpStatusCode.Unauthorized, _edge.Client, "/api/x", expired);
        await Expect(HttpStatusCode.Unauthorized, _edge.Client, "/api/x", expired); // a replay: the negative cache answers
        var limited = Mint();
        for (var i = 0; i < 3; i++)
        {
            await Expect(HttpStatusCode.OK, _edge.Client, "/limited/x", limited);
        }
        await Expect(HttpStatusCode.TooManyRequests, _edge.Client, "/limited/x", limited);
        await Expect(HttpStatusCode.Unauthorized, abuser, "/api/x", "garbage_0");
        for (var i = 1; i < 11; i++)
        {
            (await abuser.SendAsync(Get("/api/x", "garbage_" + i))).Dispose();
        }
        await Expect(HttpStatusCode.TooManyRequests, abuser, "/api/x", "garbage_11"); // the budget of 10 is spent
        await Expect(HttpStatusCode.OK, _edge.Client, "/api/x", MintFeed("sess_feed")); // the control plane's issuer

        // A revocation Redis does not hold yet (as right after the feed delivered it) is settled from the edge's memory.
        var stage = _edge.Services.GetRequiredService<RevocationStage>();
        stage.Apply([new RevokedId(RevocationKind.SessionId, "sess_held", Now.AddHours(1).ToUnixTimeSeconds(), Sequence: long.MaxValue)],
            stage.Current.Sequence);
        await Expect(HttpStatusCode.Unauthorized, _edge.Client, "/api/x", MintFeed("sess_held"));
        // One the feed mirrored into Redis, once the edge dropped it from memory, is settled in Redis.
        var seq = _feed.Revoke(RevocationKinds.SessionId, "sess_gone", Now.AddHours(1).ToUnixTimeSeconds());
        for (var i = 0; i < 500 && (stage.Current.Sequence < seq || stage.Current.Count > 1); i++)
        {
            await Task.Delay(10);
        }
        Assert.Equal(1, stage.Current.Count); // sess_held alone
        await Expect(HttpStatusCode.Unauthorized, _edge.Client, "/api/x", MintFeed("sess_gone"));
    }

    private async Task Flood(HttpClient abuser)
    {
        using var caller = Client(IPAddress.Loopback);
        // 2 000 valid and 2 000 forged tokens from the caller, 96 000 random ones from the abuser; 10 000 distinct paths.
        var valid = Enumerable.Range(0, 2_000).Select(_ => Mint()).ToArray();
        var forged = Enumerable.Range(0, 2_000).Select(_ => Forged()).ToArray();
        await Parallel.ForAsync(0, 100_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, cancel) =>
        {
            var (client, token) = i < 2_000 ? (caller, valid[i])
                : i < 4_000 ? (caller, forged[i - 2_000])
                : (abuser, Convert.ToHexString(RandomNumberGenerator.GetBytes(24)));
            using var response = await client.SendAsync(Get($"/api/r{i % 10_000}/x", token), cancel);
        });
    }

    /// <summary>A client of the edge whose connections come from <paramref name="source"/> (a loopback address).</summary>
    private HttpClient Client(IPAddress source) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancel) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancel);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = _edge.Client.BaseAddress };

    private static async Task Expect(HttpStatusCode status, HttpClient client, string path, string token)
    {
        using var response = await client.SendAsync(Get(path, token));
        Assert.Equal(status, response.StatusCode);
    }

    private static HttpRequestMessage Get(string path, string token) =>
        new(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };

    private async Task<string> ScrapeUntilAsync(Func<string, bool> ready)
    {
        var text = "";
        for (var i = 0; i < 100 && !ready(text); i++)
        {
            if (i > 0)
            {
                await Task.Delay(100);
            }
            text = await _edge.Admin.GetStringAsync("/metrics");
        }
        return text;
    }

    private static List<string> Series(string text, string name) =>
        text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal)).ToList();

    private static string Value(string line) => line.Split(' ')[1];

    private static double Counter(string text, string name) =>
        Series(text, name).Sum(l => double.Parse(Value(l), System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The label sets of a series (values and timestamps stripped).</summary>
    private static string[] LabelSets(string text, string name) =>
        Series(text, name).Select(l => l[..(l.IndexOf('}') + 1)]).Order(StringComparer.Ordinal).ToArray();
}
