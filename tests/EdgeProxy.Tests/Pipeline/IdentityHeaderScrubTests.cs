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
}
