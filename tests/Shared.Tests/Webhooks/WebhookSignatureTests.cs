using System.Text;
using Authio.Shared.Webhooks;

namespace Authio.Shared.Tests.Webhooks;

public sealed class WebhookSignatureTests
{
    // The same vector the README's Node and Python verifiers were checked against.
    private const string Secret = "whsec_test_secret_for_vectors";
    private const string Previous = "whsec_previous_secret";
    private const long T = 1772370000;
    private const string Header = "t=1772370000,v1=3204aaa2e4d5902d76329983333ca1258df8023e81d36c62b1d71c27368f38f6,"
        + "v1=45fede200b57c67cbb545416f69665c1b5ae19cdab780774ae075116b4bf9923";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"version\":1,\"id\":\"evt_1\",\"type\":\"login_succeeded\"}");
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeSeconds(T);

    [Fact]
    public void Signing_matches_the_documented_vector_with_both_secrets_during_a_rotation()
    {
        Assert.Equal(Header, WebhookSignature.Sign(T, Body, Secret, Previous));
        Assert.Equal(Header[..Header.LastIndexOf(",v1=", StringComparison.Ordinal)], WebhookSignature.Sign(T, Body, Secret));
    }

    [Fact]
    public void Either_secret_verifies_within_five_minutes_and_nothing_else_does()
    {
        Assert.True(WebhookSignature.Verify(Header, Body, Secret, At));
        Assert.True(WebhookSignature.Verify(Header, Body, Previous, At.AddSeconds(300)));
        Assert.True(WebhookSignature.Verify(Header, Body, Secret, At.AddSeconds(-300)));
        Assert.False(WebhookSignature.Verify(Header, Body, Secret, At.AddSeconds(301)));
        Assert.False(WebhookSignature.Verify(Header, Body, Secret, At.AddSeconds(-301)));
        Assert.False(WebhookSignature.Verify(Header, Body, "whsec_other", At));
        var tampered = (byte[])Body.Clone();
        tampered[^2] ^= 1;
        Assert.False(WebhookSignature.Verify(Header, tampered, Secret, At));
        // A replayed signature with another timestamp does not verify either.
        Assert.False(WebhookSignature.Verify(Header.Replace("t=1772370000", "t=1772370001", StringComparison.Ordinal), Body, Secret, At));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("t=1772370000")]
    [InlineData("v1=3204aaa2e4d5902d76329983333ca1258df8023e81d36c62b1d71c27368f38f6")]
    [InlineData("t=abc,v1=3204aaa2e4d5902d76329983333ca1258df8023e81d36c62b1d71c27368f38f6")]
    [InlineData("t=-1772370000,v1=3204aaa2e4d5902d76329983333ca1258df8023e81d36c62b1d71c27368f38f6")]
    [InlineData("t=1772370000,v1=zz")]
    [InlineData("t=1772370000,v1=3204")]
    [InlineData(",,,")]
    [InlineData("t=99999999999999999999999,v1=00")]
    public void Malformed_headers_are_false_never_an_exception(string? header) =>
        Assert.False(WebhookSignature.Verify(header, Body, Secret, At));

    [Fact]
    public void New_secrets_are_prefixed_and_random()
    {
        var a = WebhookSignature.NewSecret();
        Assert.StartsWith(WebhookSignature.SecretPrefix, a, StringComparison.Ordinal);
        Assert.Equal(6 + 43, a.Length);
        Assert.NotEqual(a, WebhookSignature.NewSecret());
    }
}
