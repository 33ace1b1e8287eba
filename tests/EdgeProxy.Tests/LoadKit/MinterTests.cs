using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Tokens;
using Authio.Load.Tools.Kit;

namespace Authio.EdgeProxy.Tests.LoadKit;

/// <summary>
/// The load kit's minter (<c>keygen</c>, <c>mint --kind jwt|expired|forged</c>) against the edge's own validator, trusting
/// the minted jwks.json as <c>Edge:Issuers:0:JwksUri</c> would: valid tokens pass, the others fail as their kind says.
/// </summary>
public sealed class MinterTests : IDisposable
{
    private const string Issuer = "https://id.authio.load/";
    private const string Audience = "https://api.authio.load";
    private readonly string _dir = Directory.CreateTempSubdirectory("authio-minter-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Minted_tokens_are_accepted_expired_or_forged_as_their_kind_says()
    {
        Assert.Equal(0, await LoadKitCli.RunAsync(["keygen", "--out", _dir], TextWriter.Null));
        var validator = Validator();

        var valid = await MintAsync("jwt", 3);
        Assert.Equal(3, valid.Distinct().Count());
        Assert.All(valid, token => Assert.Null(Validate(validator, token)));
        Assert.Same(EdgeError.Expired, Validate(validator, Assert.Single(await MintAsync("expired", 1))));
        Assert.Same(EdgeError.BadSignature, Validate(validator, Assert.Single(await MintAsync("forged", 1))));
    }

    [Fact]
    public async Task An_unknown_kind_is_refused_with_the_kinds_there_are()
    {
        Assert.Equal(2, await LoadKitCli.RunAsync(["mint", "--kind", "opaque", "--count", "1"], TextWriter.Null));
    }

    private async Task<string[]> MintAsync(string kind, int count)
    {
        using var output = new StringWriter();
        var exit = await LoadKitCli.RunAsync(["mint", "--kind", kind, "--count", $"{count}", "--key", _dir, "--issuer", Issuer, "--audience", Audience], output);
        Assert.Equal(0, exit);
        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private JwtValidator Validator()
    {
        var issuer = new TrustedIssuer(new IssuerOptions { Issuer = Issuer, Audiences = [Audience], JwksUri = Path.Combine(_dir, "jwks.json"), Algorithms = ["ES256"] });
        var registry = new IssuerRegistry([issuer]);
        Assert.True(JwksParser.TryParse(File.ReadAllBytes(Path.Combine(_dir, "jwks.json")), issuer, out var keys, out _));
        registry.Publish(issuer, new KeySet(keys, DateTimeOffset.UtcNow));
        return new JwtValidator(registry, TimeProvider.System, new EdgeTokenOptions());
    }

    private static EdgeError? Validate(JwtValidator validator, string token)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(token);
        return validator.TryValidate(bytes, new byte[bytes.Length], out _, out var error) ? null : error;
    }
}
