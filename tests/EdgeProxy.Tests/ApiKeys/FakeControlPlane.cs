using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net.Http.Json;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.ApiKeys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Authio.EdgeProxy.Tests.ApiKeys;

/// <summary>The control plane's edge API-key endpoints, with keys, availability and call counts the test controls.</summary>
public sealed class FakeControlPlane : LoopbackServer
{
    private readonly ConcurrentDictionary<string, ApiKeyRecord> _byDigest = new();
    private int _lookups;
    private int _inFlight;
    private int _peakInFlight;

    public string EdgeKey { get; } = ApiKeyFormat.Generate(ApiKeyEnvironment.Live);
    public volatile bool Down;
    /// <summary>When set, lookups wait for it: a control plane that is slow to answer.</summary>
    public volatile TaskCompletionSource? Hold;
    public int Lookups => Volatile.Read(ref _lookups);
    /// <summary>Most lookups the control plane was ever answering at once.</summary>
    public int PeakInFlight => Volatile.Read(ref _peakInFlight);
    public ConcurrentQueue<ApiKeyUsageReport> Reports { get; } = new();

    /// <summary>What an edge following this control plane calls it through: its URL, with the edge's key.</summary>
    internal Authio.EdgeProxy.ApiKeys.ControlPlaneClient EdgeClient()
    {
        var http = new HttpClient { BaseAddress = new Uri(Url) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", EdgeKey);
        return new Authio.EdgeProxy.ApiKeys.ControlPlaneClient(http);
    }

    public string Issue(string id, string org, string[] scopes, ApiKeyEnvironment environment = ApiKeyEnvironment.Live, DateTimeOffset? expiresAt = null)
    {
        var key = ApiKeyFormat.Generate(environment);
        _byDigest[Base64Url.EncodeToString(ApiKeyFormat.ComputeDigest(key))] =
            new ApiKeyRecord(id, org, scopes, environment == ApiKeyEnvironment.Live ? "live" : "test", expiresAt, false);
        return key;
    }

    public void Revoke(string id)
    {
        foreach (var (digest, record) in _byDigest)
        {
            if (record.Id == id)
            {
                _byDigest[digest] = record with { Revoked = true };
            }
        }
    }

    protected override void Map(WebApplication app)
    {
        app.MapPost(EdgeApiKeyPaths.Lookup, async (HttpContext context) =>
        {
            Interlocked.Increment(ref _lookups);
            var inFlight = Interlocked.Increment(ref _inFlight);
            for (var peak = Volatile.Read(ref _peakInFlight); inFlight > peak; peak = Volatile.Read(ref _peakInFlight))
            {
                Interlocked.CompareExchange(ref _peakInFlight, inFlight, peak);
            }
            try
            {
                if (Hold is { } hold)
                {
                    await hold.Task;
                }
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
            if (Down)
            {
                return Results.StatusCode(503);
            }
            if (context.Request.Headers.Authorization.ToString() != "Bearer " + EdgeKey)
            {
                return Results.StatusCode(401);
            }
            var request = await context.Request.ReadFromJsonAsync<ApiKeyLookupRequest>();
            return _byDigest.TryGetValue(request!.Digest, out var record) ? Results.Json(record) : Results.NotFound();
        });
        app.MapPost(EdgeApiKeyPaths.Usage, async (HttpContext context) =>
        {
            Reports.Enqueue((await context.Request.ReadFromJsonAsync<ApiKeyUsageReport>())!);
            return Results.NoContent();
        });
    }
}
