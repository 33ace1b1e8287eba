using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Passkeys;
using Authio.Shared.Configuration;
using Microsoft.Extensions.Configuration;

namespace Authio.ControlPlane.Tests.Passkeys;

/// <summary>Relying party settings: defaults an operator gets without configuring anything, and values that stop start-up.</summary>
public sealed class PasskeyOptionsTests
{
    private static PasskeyOptions Load(string issuer, params (string Key, string Value)[] settings) =>
        PasskeyOptions.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create<string, string?>(PasskeyOptions.Section + ":" + s.Key, s.Value)))
            .Build(), issuer);

    [Theory]
    [InlineData("http://localhost:5100", "localhost", "http://localhost:5100")]
    [InlineData("https://auth.example.com", "auth.example.com", "https://auth.example.com")]
    [InlineData("https://Auth.Example.com:8443/base", "auth.example.com", "https://auth.example.com:8443")]
    [InlineData("http://127.0.0.1:5100", "localhost", "http://localhost:5100")]
    [InlineData("http://controlplane:5100", "localhost", "http://localhost:5100")]
    [InlineData("https://cp_1.internal", "localhost", "http://localhost")]
    public void Defaults_follow_the_issuer(string issuer, string rpId, string origin)
    {
        var o = Load(issuer);
        Assert.Equal(rpId, o.RelyingPartyId);
        Assert.Equal("Authio", o.RelyingPartyName);
        Assert.Equal([origin], o.Origins);
    }

    [Fact]
    public void Configured_relying_party_and_origins_are_normalized()
    {
        var o = Load("http://localhost:5100", ("RelyingPartyId", "Example.COM"), ("RelyingPartyName", " Acme "),
            ("Origins:0", "https://example.com/"), ("Origins:1", "https://app.example.com:8443"));
        Assert.Equal("example.com", o.RelyingPartyId);
        Assert.Equal("Acme", o.RelyingPartyName);
        Assert.Equal(["https://example.com", "https://app.example.com:8443"], o.Origins);
        // Only the RP ID set: its https origin.
        Assert.Equal(["https://example.com"], Load("http://localhost:5100", ("RelyingPartyId", "example.com")).Origins);
    }

    [Theory]
    [InlineData("RelyingPartyId", "https://example.com", "ControlPlane:Passkeys:RelyingPartyId")]
    [InlineData("RelyingPartyId", "example.com:443", "ControlPlane:Passkeys:RelyingPartyId")]
    [InlineData("RelyingPartyId", "10.0.0.1", "ControlPlane:Passkeys:RelyingPartyId")]
    [InlineData("Origins:0", "https://example.org", "ControlPlane:Passkeys:Origins:0")]
    [InlineData("Origins:0", "http://example.com", "ControlPlane:Passkeys:Origins:0")]
    [InlineData("Origins:0", "https://example.com/login", "ControlPlane:Passkeys:Origins:0")]
    [InlineData("Origins:0", "not a url", "ControlPlane:Passkeys:Origins:0")]
    public void Bad_values_name_their_key(string key, string value, string named)
    {
        var settings = key == "RelyingPartyId" ? new[] { (key, value) } : [("RelyingPartyId", "example.com"), (key, value)];
        var ex = Assert.Throws<ConfigurationException>(() => Load("http://localhost:5100", settings));
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_value_stops_the_control_plane_from_starting()
    {
        var ex = Assert.Throws<ConfigurationException>(() => ControlPlaneApp.Build(
            ["--urls=http://127.0.0.1:0", "--ControlPlane:Passkeys:RelyingPartyId=example.com", "--ControlPlane:Passkeys:Origins:0=https://evil.example"]));
        Assert.Contains("ControlPlane:Passkeys:Origins:0", ex.Message, StringComparison.Ordinal);
    }
}
