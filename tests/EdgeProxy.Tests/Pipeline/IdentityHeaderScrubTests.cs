using Authio.EdgeProxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Authio.EdgeProxy.Tests.Pipeline;

/// <summary>The scrub of spoofed identity headers: every variant removed, and nothing allocated when there is none.</summary>
public sealed class IdentityHeaderScrubTests
{
    [Fact]
    public void Kestrels_request_headers_are_scanned_without_boxing_their_enumerator()
    {
        var kestrelHeaders = Type.GetType("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpRequestHeaders, Microsoft.AspNetCore.Server.Kestrel.Core");
        Assert.NotNull(kestrelHeaders); // if Kestrel renames it, this test (not a silent 56 B per request) says so
        Assert.True(IdentityHeaderScrub.ScansWithoutBoxing(kestrelHeaders));
    }

    [Fact]
    public void Every_variant_is_removed_and_a_clean_request_allocates_nothing()
    {
        var headers = new HeaderDictionary
        {
            ["X-Authio-Subject"] = "admin", ["x_authio_org"] = "org_other", ["X-AUTHIO-Whatever"] = "1",
            ["X-Authiox"] = "kept", ["Accept"] = "application/json",
        };
        IdentityHeaderScrub.Scrub(headers);
        Assert.Equal(["Accept", "X-Authiox"], headers.Keys.Order(StringComparer.Ordinal));

        IdentityHeaderScrub.Scrub(headers); // warm
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            IdentityHeaderScrub.Scrub(headers);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Override_headers_are_removed_and_the_header_section_is_measured()
    {
        var headers = new HeaderDictionary
        {
            ["X-HTTP-Method-Override"] = "DELETE", ["x_method_override"] = "PUT", ["X-ORIGINAL-URL"] = "/admin", ["x-rewrite-url"] = "/admin",
            ["X-Original-Host"] = "kept", ["X-Method"] = "kept", ["Accept"] = new(["a", "b"]),
        };
        IdentityHeaderScrub.Scrub(headers, out var bytes);
        Assert.Equal(["Accept", "X-Method", "X-Original-Host"], headers.Keys.Order(StringComparer.Ordinal));
        // name + value + 4 per line; a two-valued header counts as two lines.
        var expected = (22 + 6 + 4) + (17 + 3 + 4) + (14 + 6 + 4) + (13 + 6 + 4) + (15 + 4 + 4) + (8 + 4 + 4) + 2 * (6 + 1 + 4);
        Assert.Equal(expected, bytes);
    }
}
