using Authio.EdgeProxy.Pipeline;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Pipeline;

/// <summary>The verdict for each spelling, on the raw target (no server involved).</summary>
public sealed class PathHygieneVerdictTests
{
    [Theory]
    [InlineData("/api/orders/42")]
    [InlineData("/api/orders/42?next=/a/../b&x=%2F")] // the query is not the path
    [InlineData("/api/v1.2/file.tar.gz")]
    [InlineData("/api/.well-known/x")]
    [InlineData("/api/...")]
    [InlineData("/api/a..b/c.")]
    [InlineData("/a/.b/..c/...d")]
    [InlineData("/")]
    [InlineData("/api/100%25")]
    [InlineData("/api/caf%C3%A9")]
    [InlineData("/api/%zz")]
    [InlineData("*")]
    [InlineData("http://example.com/api/x")]
    public void Clean(string target) => Assert.Equal(PathVerdict.Clean, PathHygiene.Inspect(target));

    [Theory]
    [InlineData("/public/admin%2Fx")]
    [InlineData("/public/admin%2fx")]
    [InlineData("/public/admin%5Cx")]
    [InlineData("/public/admin%5cx")]
    [InlineData("/public/admin\\x")]
    [InlineData("/public/admin%252Fx")] // double-encoded: YARP forwards Kestrel's decoded %2F as %252F
    [InlineData("/public/admin%255cx")]
    [InlineData("http://example.com/public/admin%2Fx")]
    public void Encoded_separator(string target) => Assert.Equal(PathVerdict.EncodedSeparator, PathHygiene.Inspect(target));

    [Theory]
    [InlineData("/public/../api/x")]
    [InlineData("/public/./x")]
    [InlineData("/public/..")]
    [InlineData("/public/.")]
    [InlineData("/./x")]
    [InlineData("/.")]
    [InlineData("/a/.b/../c")]
    [InlineData("/public/%2e%2e/api")]
    [InlineData("/public/%2E%2E/api")]
    [InlineData("/public/.%2E/api")]
    [InlineData("/public/%2e./api")]
    [InlineData("/public/%2e/api")]
    [InlineData("/public/%252e%252e/api")]
    [InlineData("/public/..%2Fapi")]
    [InlineData("/public/..%5Capi")]
    [InlineData("/public/x\\..\\api")]
    [InlineData("/public/x%5C..%5Capi")]
    [InlineData("http://example.com/public/../api")]
    public void Dot_segment(string target) => Assert.Equal(PathVerdict.DotSegment, PathHygiene.Inspect(target));
}

public sealed class PathHygieneWorld : EdgeWorld, IAsyncLifetime
{
    public RawTargetUpstream Raw { get; } = new();

    async Task IAsyncLifetime.InitializeAsync()
    {
        await Raw.StartAsync();
        await InitializeAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await Raw.DisposeAsync();
    }

    protected override void Customize(Dictionary<string, string?> config)
    {
        config["ReverseProxy:Routes:files:ClusterId"] = "raw";
        config["ReverseProxy:Routes:files:Match:Path"] = "/files/{**rest}";
        config["ReverseProxy:Routes:files:Metadata:Authio.Anonymous"] = "true";
        config["ReverseProxy:Routes:files:Metadata:Authio.AllowEncodedSlashes"] = "true";
        config["ReverseProxy:Routes:open:ClusterId"] = "raw";
        config["ReverseProxy:Routes:open:Match:Path"] = "/open/{**rest}";
        config["ReverseProxy:Routes:open:Metadata:Authio.Anonymous"] = "true";
        config["ReverseProxy:Clusters:raw:Destinations:d1:Address"] = Raw.Url;
    }
}

/// <summary>
/// Each spelling end to end through a real edge in front of an upstream that records the raw target it received: a
/// refused path never reaches the upstream, and is refused before routing and authentication.
/// </summary>
public sealed class PathHygieneTests(PathHygieneWorld world) : IClassFixture<PathHygieneWorld>
{
    private string Url => world.Edge.Client.BaseAddress!.ToString();

    [Theory]
    [InlineData("/open/admin%2Fx")]
    [InlineData("/open/admin%2fx")]
    [InlineData("/open/admin%5Cx")]
    [InlineData("/open/admin%5cx")]
    [InlineData("/open/admin%252Fx")]
    [InlineData("/open/admin%255Cx")]
    [InlineData("/open/../api/x")]
    [InlineData("/open/./x")]
    [InlineData("/open/%2e%2e/api/x")]
    [InlineData("/open/%2E%2E/api/x")]
    [InlineData("/open/.%2E/api/x")]
    [InlineData("/open/%2e/x")]
    [InlineData("/open/..%2Fapi")]
    [InlineData("/open/x%5C..%5Capi")]
    [InlineData("/open/%252e%252e/api")]
    public async Task Every_spelling_is_refused_before_the_upstream_sees_it(string target)
    {
        var before = world.Raw.Received.Count;
        var response = await RawHttp.GetAsync(Url, target);
        AssertInvalidPath(response);
        Assert.Equal(before, world.Raw.Received.Count);
    }

    [Theory]
    [InlineData("/open/admin\\x")]
    [InlineData("/open/x\\..\\api")]
    public async Task A_literal_backslash_is_refused(string target)
    {
        // Kestrel accepts a raw '\' in the request line and YARP would forward it as %5C.
        var before = world.Raw.Received.Count;
        AssertInvalidPath(await RawHttp.GetAsync(Url, target));
        Assert.Equal(before, world.Raw.Received.Count);
    }

    [Fact]
    public async Task An_anonymous_catch_all_route_cannot_be_steered_with_an_encoded_slash()
    {
        // The example: /public/{**rest} is anonymous; admin%2Fx must not reach an upstream that decodes it.
        var before = world.Upstream.Received.Count;
        AssertInvalidPath(await RawHttp.GetAsync(Url, "/public/admin%2Fx"));
        Assert.Equal(before, world.Upstream.Received.Count);
    }

    [Fact]
    public async Task Invalid_paths_are_refused_before_authentication_and_before_route_matching()
    {
        AssertInvalidPath(await RawHttp.GetAsync(Url, "/api/a%2Fb"));          // an authenticated route, no credential: 400, not 401
        AssertInvalidPath(await RawHttp.GetAsync(Url, "/nowhere/../api/x"));  // no route would match the raw spelling: 400, not 404
        AssertInvalidPath(await RawHttp.GetAsync(Url, "/api/%2e%2e/public/x"));
    }

    [Fact]
    public async Task A_route_that_allows_encoded_slashes_receives_them_as_the_client_spelled_them()
    {
        var response = await RawHttp.GetAsync(Url, "/files/a%2Fb%5Cc\\d%252Fe");
        Assert.Equal(200, response.Status);
        var (rawTarget, _, _) = world.Raw.Received.Last();
        // What the upstream actually receives (YARP re-encodes Kestrel's decoded path): %2F arrives as %252F
        // (Kestrel keeps %2F, YARP escapes its '%'), %5C and a literal '\' as %5C, %252F also as %252F.
        Assert.Equal("/files/a%252Fb%5Cc%5Cd%252Fe", rawTarget);
    }

    [Fact]
    public async Task A_route_that_allows_encoded_slashes_still_refuses_dot_segments()
    {
        var before = world.Raw.Received.Count;
        AssertInvalidPath(await RawHttp.GetAsync(Url, "/files/a/..%2Fb"));
        AssertInvalidPath(await RawHttp.GetAsync(Url, "/files/%2e%2e/b"));
        Assert.Equal(before, world.Raw.Received.Count);
    }

    [Fact]
    public async Task Clean_paths_reach_the_upstream_unchanged()
    {
        var response = await RawHttp.GetAsync(Url, "/open/v1.2/file.tar.gz?next=/a/../b");
        Assert.Equal(200, response.Status);
        Assert.Equal("/open/v1.2/file.tar.gz?next=/a/../b", world.Raw.Received.Last().RawTarget);
    }

    [Fact]
    public async Task A_refused_path_does_not_taint_the_next_request_on_the_same_connection()
    {
        // HttpClient keeps the connection alive; the encoded-separator mark must not outlive its request.
        using var refused = await world.Edge.Client.GetAsync(new Uri(Url + "open/a%2Fb"));
        await ProblemAssert.Is(refused, 400, "invalid_path");
        using var clean = await world.Edge.Client.GetAsync("/open/a/b");
        Assert.Equal(System.Net.HttpStatusCode.OK, clean.StatusCode);
    }

    private static void AssertInvalidPath(RawHttp.Response response)
    {
        Assert.True(response.Status == 400, $"expected 400, got {response.Status}: {response.Body}");
        Assert.Equal("application/problem+json", response.ContentType);
        using var json = System.Text.Json.JsonDocument.Parse(response.Body);
        Assert.Equal("invalid_path", json.RootElement.GetProperty("code").GetString());
    }
}
