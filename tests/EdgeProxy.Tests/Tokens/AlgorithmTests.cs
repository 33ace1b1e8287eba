using System.Net;
using System.Text;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Tokens;

/// <summary>Every supported algorithm end to end, and HS256 confined to the issuer that owns the shared secret.</summary>
public sealed class AlgorithmTests : IClassFixture<AlgorithmTests.World>
{
    public const string ServiceIssuer = "https://service.test";
    public static readonly byte[] Secret = Encoding.UTF8.GetBytes("a-service-to-service-secret-of-40-bytes!");

    public sealed class World : EdgeWorld
    {
        public TestKey Rsa { get; } = TestKey.Rs256("rsa-1");
        public TestKey Pss { get; } = TestKey.Ps256("pss-1");
        public TestKey Es384 { get; } = TestKey.Es384("es384-1");

        protected override void PublishKeys() => Jwks.Publish(Key, Rsa, Pss, Es384);

        protected override void Customize(Dictionary<string, string?> config)
        {
            config["Edge:Issuers:1:Issuer"] = ServiceIssuer;
            config["Edge:Issuers:1:Audiences:0"] = Jwt.Audience;
            config["Edge:Issuers:1:SharedSecret"] = Encoding.UTF8.GetString(Secret);
            config["Edge:Issuers:1:Algorithms:0"] = "HS256";
        }
    }

    private readonly World _world;

    public AlgorithmTests(World world) => _world = world;

    private async Task<HttpStatusCode> Status(string token)
    {
        using var response = await _world.Edge.GetAsync("/api/alg", token);
        return response.StatusCode;
    }

    [Fact]
    public async Task Rs256_ps256_es256_and_es384_are_accepted()
    {
        Assert.Equal(HttpStatusCode.OK, await Status(Jwt.Mint(_world.Key, _world.Now)));
        Assert.Equal(HttpStatusCode.OK, await Status(Jwt.Mint(_world.Rsa, _world.Now)));
        Assert.Equal(HttpStatusCode.OK, await Status(Jwt.Mint(_world.Pss, _world.Now)));
        Assert.Equal(HttpStatusCode.OK, await Status(Jwt.Mint(_world.Es384, _world.Now)));
    }

    [Fact]
    public async Task A_key_pinned_to_rs256_does_not_verify_ps256()
    {
        // The JWK says alg RS256: a PS256 signature with the same RSA key is refused (RFC 8725 §3.1).
        var token = Jwt.Sign(_world.Rsa, "{\"alg\":\"PS256\",\"kid\":\"rsa-1\"}", Jwt.Claims(_world.Now), alg: "PS256");
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(token));
    }

    [Fact]
    public async Task Hs256_works_only_for_the_issuer_that_owns_the_secret()
    {
        var now = _world.Now;
        var service = Jwt.Hs256(Secret, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", Jwt.Claims(now, iss: ServiceIssuer, sub: "svc-billing"));
        using (var ok = await _world.Edge.GetAsync("/api/alg", service))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("svc-billing", _world.Upstream.Last.Header("X-Authio-Subject"));
        }
        // Same secret, but claiming to be the JWKS issuer: refused.
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(Jwt.Hs256(Secret, "{\"alg\":\"HS256\"}", Jwt.Claims(now))));
        // Wrong secret.
        var wrong = Encoding.UTF8.GetBytes("another-secret-that-is-long-enough-to-use!!");
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(Jwt.Hs256(wrong, "{\"alg\":\"HS256\"}", Jwt.Claims(now, iss: ServiceIssuer))));
        // An asymmetric token claiming the HS issuer: the key's issuer decides, so the iss does not match.
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(Jwt.Sign(_world.Key, Jwt.Header(_world.Key), Jwt.Claims(now, iss: ServiceIssuer))));
    }

    [Fact]
    public async Task Hs256_with_the_rsa_public_key_as_secret_is_refused()
    {
        var pem = Encoding.ASCII.GetBytes(_world.Rsa.Rsa!.ExportSubjectPublicKeyInfoPem());
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(Jwt.Hs256(pem, "{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", Jwt.Claims(_world.Now))));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(Jwt.Hs256(_world.Rsa.Rsa.ExportRSAPublicKey(), "{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", Jwt.Claims(_world.Now))));
    }
}
