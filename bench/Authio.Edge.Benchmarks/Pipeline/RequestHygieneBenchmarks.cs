using Authio.EdgeProxy.Pipeline;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Authio.Edge.Benchmarks.Pipeline;

/// <summary>
/// The edge's first stage on a clean request: path hygiene on the raw target plus the spoofable-header scrub and header
/// size count in one pass. The claim: 0 B, whatever the path (a path with dots in file names takes the decoding walk).
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class RequestHygieneBenchmarks
{
    private const long MaxHeaderBytes = 32 * 1024;
    private DefaultHttpContext _context = null!;
    private HttpRequestFeature _request = null!;

    [GlobalSetup]
    public void Setup()
    {
        _context = new DefaultHttpContext();
        _request = (HttpRequestFeature)_context.Features.Get<IHttpRequestFeature>()!;
        var headers = _context.Request.Headers;
        headers.Host = "api.example.com";
        headers.Accept = "application/json";
        headers.AcceptEncoding = "gzip, br";
        headers.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
        headers.Authorization = "Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleS0xIiwidHlwIjoiYXQrand0In0.e30.c2ln";
        headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        _request.RawTarget = "/orgs/org_acme/applications/app_01HZY3/keys?limit=50";
        if (RequestHygiene.Check(_context, MaxHeaderBytes) is not null)
        {
            throw new InvalidOperationException("a clean request was refused");
        }
    }

    [Benchmark(Baseline = true, Description = "PathHygiene.Inspect, clean path (one vectorized scan)")]
    public int InspectClean() => (int)PathHygiene.Inspect("/orgs/org_acme/applications/app_01HZY3/keys?limit=50");

    [Benchmark(Description = "PathHygiene.Inspect, dots in names")]
    public int InspectDotted() => (int)PathHygiene.Inspect("/downloads/v1.2.3/.well-known/authio-edge-1.2.3.linux-x64.tar.gz");

    [Benchmark(Description = "PathHygiene.Inspect, escapes (decoding walk)")]
    public int InspectEscaped() => (int)PathHygiene.Inspect("/orgs/org_acme/files/caf%C3%A9%20menu.pdf");

    [Benchmark(Description = "IdentityHeaderScrub.Scrub + size (6 headers)")]
    public long Scrub()
    {
        IdentityHeaderScrub.Scrub(_context.Request.Headers, out var bytes);
        return bytes;
    }

    [Benchmark(Description = "RequestHygiene.Check: path + scrub + header size (6 headers)")]
    public bool Check() => RequestHygiene.Check(_context, MaxHeaderBytes) is null;
}
