using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.EdgeProxy.Tokens;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Authio.EdgeProxy.Tests.Diagnostics;

/// <summary>
/// The stage counters record on the request path without allocating, with the OpenTelemetry SDK listening as on the
/// admin listener: a token-cache hit whose revocation-filter positive memory settles, a replay answered by the negative
/// cache, a cold signature check, a failure-budget refusal and a rate-limited route's admissions and refusals.
/// </summary>
/// <remarks>Run alone: the SDK listens to every <c>Authio.Edge</c> meter in the process, other tests' edges included.</remarks>
[Collection(nameof(Admin.RouteMetricsTests))]
public sealed class StageMetricsAllocationTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("an-hs256-secret-that-is-long-enough!!");

    [Fact]
    public void Stage_counters_on_the_request_path_allocate_nothing_once_warm()
    {
        var exporter = new CountingExporter();
        using var provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(EdgeMetrics.MeterName)
            .AddReader(new BaseExportingMetricReader(exporter))
            .Build();
        var time = TimeProvider.System;
        var now = time.GetUtcNow();
        var issuer = new TrustedIssuer(new IssuerOptions
        {
            Issuer = Jwt.Issuer, Audiences = [Jwt.Audience], SharedSecret = Encoding.UTF8.GetString(Secret), Algorithms = ["HS256"],
        });
        var registry = new IssuerRegistry([issuer]);
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var metrics = new EdgeMetrics(meters, registry, time);
        var validator = new JwtValidator(registry, time, new EdgeTokenOptions(), metrics);
        // The user's not-before predates the token: a filter positive on every check, settled clean from memory.
        var revocation = new RevocationStage(time, new RevocationOptions(), NoRemoteRevocations.Instance, metrics);
        revocation.Replace([new RevokedId(RevocationKind.UserNotBefore, "user_1", now.AddHours(1).ToUnixTimeSeconds(),
            now.AddHours(-1).ToUnixTimeSeconds(), 1, "org_1")], 1);
        var budget = new FailureBudget(new FailureBudgetOptions { PerSecond = 0.001, Burst = 1 }, time, metrics);
        var authenticator = new EdgeAuthenticator(validator, new TokenCache(1024), budget, revocation, metrics, time, new NegativeTokenCache(1024));
        var limiter = new RateLimiter(new BucketTable(1024), new InMemoryOrgRateLimits(), null, 1, time, null);
        Assert.True(RateLimitPolicy.TryParse("orders", "1/1h burst 1", out var limit, out _));

        const string Header = "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}";
        var valid = Encoding.ASCII.GetBytes(Jwt.Hs256(Secret, Header, Jwt.Claims(now)));
        var expired = Encoding.ASCII.GetBytes(Jwt.Hs256(Secret, Header, Jwt.Claims(now.AddHours(-2), exp: now.AddHours(-1).ToUnixTimeSeconds())));
        var garbage = Encoding.ASCII.GetBytes(Jwt.Hs256(Encoding.UTF8.GetBytes("another-secret-that-is-long-enough!!!"), Header, Jwt.Claims(now)));
        var abuser = IPAddress.Parse("192.0.2.7");
        var payload = new byte[JwtValidator.PayloadBufferSize(valid.Length)];
        Assert.True(authenticator.TryAuthenticate(valid, IPAddress.Loopback, out var identity, out var error), error?.Detail);
        Assert.False(authenticator.TryAuthenticate(expired, IPAddress.Loopback, out _, out _));
        for (var i = 0; i < 3; i++)
        {
            authenticator.TryAuthenticate(garbage, abuser, out _, out _); // spends the abuser's budget
        }
        Assert.Same(Errors.EdgeError.TooManyFailures, authenticator.Authenticate(garbage, abuser).Error);

        void Request()
        {
            authenticator.TryAuthenticate(valid, IPAddress.Loopback, out _, out _); // cache hit, filter positive, memory confirmation
            authenticator.TryAuthenticate(expired, IPAddress.Loopback, out _, out _); // negative-cache hit
            authenticator.TryAuthenticate(garbage, abuser, out _, out _); // failure-budget refusal
            validator.TryValidate(valid, payload, out _, out _); // a signature check (valid)
            var decision = limiter.Check(limit!, identity, IPAddress.Loopback); // as the pipeline's rate-limit stage records it
            metrics.Stages.RateLimit(decision.Limit.Name, decision.Allowed);
        }
        for (var i = 0; i < 200; i++)
        {
            Request();
        }
        var least = long.MaxValue;
        for (var round = 0; round < 5 && least > 0; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1000; i++)
            {
                Request();
            }
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, least);

        provider.ForceFlush();
        foreach (var name in new[] { "authio.edge.negative_cache.hits", "authio.edge.signature.verifications", "authio.edge.failure_budget.refusals",
                     "authio.edge.rate_limit.decisions", "authio.edge.revocation.filter_positives", "authio.edge.revocation.confirmations",
                     StageMetrics.ConfirmationDurationName })
        {
            Assert.True(exporter.Names.Contains(name), $"{name} recorded nothing");
        }
    }

    private sealed class CountingExporter : BaseExporter<Metric>
    {
        public HashSet<string> Names { get; } = [];

        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
            {
                foreach (ref readonly var _ in metric.GetMetricPoints())
                {
                    Names.Add(metric.Name);
                }
            }
            return ExportResult.Success;
        }
    }
}
