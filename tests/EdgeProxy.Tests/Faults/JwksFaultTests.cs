using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Authio.EdgeProxy.Tests.Faults;

/// <summary>
/// An issuer's JWKS endpoint answers 500s, then garbage, then a good set again, while a client checks every edge answer.
/// Throughout, a token of the last good key is admitted and tokens of keys the edge never had are refused; the failures
/// are logged; <c>/readyz</c> stays 200 (the edge serves) with status <c>degraded</c> and the issuer's
/// <c>refreshFailure</c> saying why; once the endpoint serves a good set the edge takes it (a token of its new key is
/// admitted) and reports <c>ready</c>. Real time, refresh every second: about 15 s.
/// </summary>
public sealed class JwksFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Jwks_answering_500_then_garbage_keeps_the_last_good_keys_reports_it_and_recovers()
    {
        await using var upstream = new RecordingUpstream();
        await upstream.StartAsync();
        await using var jwks = new JwksServer();
        await jwks.StartAsync();
        var key1 = TestKey.Es256("key-1");
        var key2 = TestKey.Es256("key-2");
        var forged = TestKey.Es256("key-1");
        jwks.Publish(key1);
        var log = new EventIdLog();
        var config = EdgeTestHost.DefaultConfig(upstream.Url, jwks.JwksUrl);
        config["Edge:Issuers:0:RefreshInterval"] = "00:00:01";
        await using var edge = await EdgeTestHost.StartAsync(config, b =>
        {
            b.Services.AddSingleton(TimeProvider.System);
            b.Logging.AddProvider(log);
        });

        var now = DateTimeOffset.UtcNow;
        var clean = Jwt.Mint(key1, now);
        var nextKey = Jwt.Mint(key2, now);
        var forgedToken = Jwt.Mint(forged, now);
        async Task<HttpStatusCode?> EdgeAsync(string token)
        {
            using var response = await edge.GetAsync("/api/x", token);
            return response.StatusCode;
        }
        async Task<JsonElement> ReadyzAsync()
        {
            using var response = await edge.Admin.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }
        static string? Failure(JsonElement ready) =>
            ready.GetProperty("issuers")[0].GetProperty("refreshFailure") is { ValueKind: JsonValueKind.Object } f ? f.GetProperty("reason").GetString() : null;
        async Task<JsonElement> UntilAsync(Func<JsonElement, bool> condition, string what)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var ready = await ReadyzAsync();
                if (condition(ready))
                {
                    return ready;
                }
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{what}; /readyz: {ready}");
                await Task.Delay(50);
            }
        }
        async Task SeveralFetchesAsync()
        {
            var from = jwks.Fetches;
            var clock = Stopwatch.StartNew();
            while (jwks.Fetches < from + 2)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the edge stopped fetching its JWKS");
                await Task.Delay(50);
            }
        }

        await UntilAsync(r => r.GetProperty("status").GetString() == "ready", "the edge never became ready");
        var traffic = await TrafficCheck.StartAsync(EdgeAsync, new Dictionary<string, string> { [clean] = "token of the last good key" },
            new Dictionary<string, string> { [nextKey] = "token of a key not yet published", [forgedToken] = "token of a forged key with the good kid" });

        traffic.Enter("jwks 500");
        jwks.DownStatus = 500;
        jwks.Down = true;
        var ready = await UntilAsync(r => Failure(r)?.Contains("HTTP 500", StringComparison.Ordinal) == true, "/readyz never reported the 500s");
        Assert.Equal("degraded", ready.GetProperty("status").GetString());
        await SeveralFetchesAsync();

        string[] garbage = ["<html><body>502 Bad Gateway</body></html>", "{\"keys\":[{\"kty\":\"EC\",", "{\"keys\":\"none\"}", "\u0001\u00ff\u0000binary"];
        foreach (var document in garbage)
        {
            traffic.Enter($"jwks garbage {Array.IndexOf(garbage, document)}");
            jwks.PublishRaw(document);
            jwks.Down = false;
            await SeveralFetchesAsync();
            ready = await UntilAsync(r => Failure(r)?.StartsWith("refused", StringComparison.Ordinal) == true, $"/readyz never reported garbage {document}");
            Assert.Equal("degraded", ready.GetProperty("status").GetString());
            Assert.Equal(1, ready.GetProperty("issuers")[0].GetProperty("keys").GetInt32());
        }

        traffic.Enter("jwks recovered");
        traffic.Forget(nextKey);
        jwks.Publish(key1, key2);
        ready = await UntilAsync(r => r.GetProperty("status").GetString() == "ready", "/readyz never recovered");
        Assert.Null(Failure(ready));
        Assert.Equal(2, ready.GetProperty("issuers")[0].GetProperty("keys").GetInt32());
        traffic.Admit(nextKey, "token of the newly published key");
        await Task.Delay(500);
        var summary = await traffic.StopAndAssertAsync();

        Assert.True(log.Count(EdgeLogEvents.JwksFetchFailed) > 0, "the 500s were not logged");
        Assert.True(log.Count(EdgeLogEvents.JwksRefused) >= garbage.Length, "the garbage was not logged");
        Assert.True(log.Count(EdgeLogEvents.JwksLoaded) >= 2, "the recovery was not logged");
        output.WriteLine($"{summary}; {jwks.Fetches} JWKS fetches; logged: {log.Count(EdgeLogEvents.JwksFetchFailed)} fetch failures, "
            + $"{log.Count(EdgeLogEvents.JwksRefused)} refused sets, {log.Count(EdgeLogEvents.JwksLoaded)} loads");
    }
}
