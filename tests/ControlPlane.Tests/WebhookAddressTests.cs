using System.Net;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Webhooks;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Tests;

/// <summary>SQLite with the production webhook rules: https to public addresses only.</summary>
public sealed class WebhookDefaultsFixture : SqliteFixtureBase
{
    protected override IEnumerable<string> ExtraArguments => ["--ControlPlane:Webhooks:AllowPrivateNetworks=false"];
}

public sealed class WebhookAddressTests(WebhookDefaultsFixture f) : IClassFixture<WebhookDefaultsFixture>
{
    [Theory]
    [InlineData("https://127.0.0.1/hook")]
    [InlineData("https://169.254.169.254/latest/meta-data/")]
    [InlineData("https://10.0.0.1/hook")]
    [InlineData("https://localhost/hook")]
    [InlineData("https://LOCALHOST:8443/hook")]
    [InlineData("https://[::1]/hook")]
    [InlineData("https://[::ffff:127.0.0.1]/hook")]
    [InlineData("https://[fd00::1]/hook")]
    [InlineData("https://0.0.0.0/hook")]
    [InlineData("https://2130706433/hook")]
    [InlineData("http://93.184.216.34/hook")]
    public async Task Webhooks_to_internal_addresses_or_without_https_are_refused_by_default(string url)
    {
        var admin = await f.AdminAsync();
        var body = await (await f.SendAsync(HttpMethod.Post, "/v1/webhooks", admin.Access, new { url })).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.WebhookUrlRefused);
        Assert.DoesNotContain("127.0.0.1", (string)body["detail"]!);
        Assert.Equal(0L, await f.InspectAsync<long>("SELECT COUNT(*) FROM webhooks"));
    }

    [Fact]
    public async Task A_change_to_an_internal_address_is_refused_too()
    {
        var admin = await f.AdminAsync();
        // A literal public address needs no DNS, so this works on a machine without a resolver.
        var created = await (await f.SendAsync(HttpMethod.Post, "/v1/webhooks", admin.Access, new { url = "https://93.184.216.34/hook", enabled = false }))
            .BodyAsync(HttpStatusCode.Created);
        var id = (string)created["id"]!;
        await (await f.SendAsync(HttpMethod.Patch, $"/v1/webhooks/{id}", admin.Access, new { url = "https://169.254.169.254/" }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.WebhookUrlRefused);
        var read = await (await f.SendAsync(HttpMethod.Get, $"/v1/webhooks/{id}", admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("https://93.184.216.34/hook", (string)read["url"]!);
        Assert.Equal(HttpStatusCode.NoContent, (await f.SendAsync(HttpMethod.Delete, $"/v1/webhooks/{id}", admin.Access)).StatusCode);
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.255.0.9", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::", false)]
    [InlineData("::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("::ffff:8.8.8.8", false)]
    [InlineData("::127.0.0.1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd12:3456::1", false)]
    [InlineData("fc00::1", false)]
    [InlineData("fec0::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("64:ff9b::a9fe:a9fe", false)]
    [InlineData("2002:7f00:1::1", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("8.8.8.8", true)]
    [InlineData("93.184.216.34", true)]
    [InlineData("172.32.0.1", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("64:ff9b::808:808", true)]
    public void Only_globally_routable_addresses_are_public(string address, bool expected) =>
        Assert.Equal(expected, WebhookAddressPolicy.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public async Task Deliveries_check_the_address_they_connect_to_whatever_the_url_said()
    {
        // As if DNS had answered a public address when the webhook was saved and 127.0.0.1 at delivery (rebinding).
        await using var receiver = await WebhookReceiver.StartAsync();
        var options = new ControlPlaneOptions();
        using var sender = new WebhookSender(new WebhookAddressPolicy(options), options);
        var attempt = await sender.SendAsync(receiver.Url, "{}"u8.ToArray(), "evt_x", "t=1,v1=00", CancellationToken.None);
        Assert.False(attempt.Delivered);
        Assert.Equal("address refused", attempt.Error);
        Assert.Empty(receiver.Received);

        // Redirects are never followed: a 3xx is a failed attempt.
        options.Webhooks.AllowPrivateNetworks = true;
        receiver.Answer = _ => 307;
        using var allowed = new WebhookSender(new WebhookAddressPolicy(options), options);
        var redirected = await allowed.SendAsync(receiver.Url, "{}"u8.ToArray(), "evt_x", "t=1,v1=00", CancellationToken.None);
        Assert.False(redirected.Delivered);
        Assert.Equal(307, redirected.Status);
        Assert.Single(receiver.Received);
    }

    [Fact]
    public void A_circuit_opens_after_the_threshold_holds_for_the_cooldown_then_lets_one_probe_through()
    {
        var state = new WebhookEndpointState();
        var t0 = DateTimeOffset.UnixEpoch;
        var cooldown = TimeSpan.FromSeconds(30);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(state.TryEnter(t0, 4));
        }

        Assert.False(state.TryEnter(t0, 4));
        Assert.False(state.Admits(t0, 4));
        for (var i = 0; i < 4; i++)
        {
            Assert.False(state.Exit(succeeded: false, t0, 5, cooldown));
        }

        Assert.True(state.TryEnter(t0, 4));
        Assert.True(state.Exit(succeeded: false, t0, 5, cooldown)); // the fifth consecutive failure opens it
        Assert.False(state.Admits(t0.AddSeconds(29), 4));
        Assert.False(state.TryEnter(t0.AddSeconds(29), 4));
        // Half-open: one probe, no second beside it.
        Assert.True(state.Admits(t0.AddSeconds(30), 4));
        Assert.True(state.TryEnter(t0.AddSeconds(30), 4));
        Assert.False(state.TryEnter(t0.AddSeconds(30), 4));
        Assert.True(state.Exit(succeeded: false, t0.AddSeconds(31), 5, cooldown)); // a failed probe opens it again
        Assert.False(state.TryEnter(t0.AddSeconds(60), 4));
        Assert.True(state.TryEnter(t0.AddSeconds(61), 4));
        Assert.False(state.Exit(succeeded: true, t0.AddSeconds(61), 5, cooldown)); // a good probe closes it
        for (var i = 0; i < 4; i++)
        {
            Assert.True(state.TryEnter(t0.AddSeconds(61), 4));
        }
    }
}
