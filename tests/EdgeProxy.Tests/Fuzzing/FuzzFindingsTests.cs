using System.Text;
using System.Text.Json;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Sync;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.EdgeProxy.Tokens;
using Authio.Shared.Sync;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Tests.Fuzzing;

/// <summary>
/// One test per distinct bug the fuzzers and property tests found (README.md, "Testing and fuzzing", lists the runs), each asserting
/// what an operator or attacker would have seen: the feed loop or key refresh ending with an exception, a limit that
/// refused every request, a token accepted that no instant makes valid.
/// </summary>
public sealed class FuzzFindingsTests
{
    private static readonly TrustedIssuer Issuer = new(new IssuerOptions { Issuer = "https://issuer.test", Audiences = ["a"], JwksUri = "x" });

    /// <summary>
    /// changefeed: a JWKS string member with bytes that are not UTF-8 (0x7F 0xFF…) passes JsonDocument and the serializer,
    /// and threw InvalidOperationException from the middle of applying a batch, ending the sync loop.
    /// </summary>
    [Fact]
    public void Feed_records_with_text_that_is_not_utf8_are_malformed_not_exceptions()
    {
        byte[] jwks = [.. "{\"keys\":[{\"kty\":\"EC\",\"alg\":\""u8, 0x7F, 0xFF, .. "\"}]}"u8];
        byte[] change = [.. "{\"seq\":14,\"type\":\"org_keys\",\"org_keys\":{\"org_id\":\"org_a\",\"jwks\":"u8, .. jwks, .. "}}"u8];
        Assert.Equal(FeedRejectionReasons.Malformed, RedisChangeFeed.Verify(new StreamEntry("14-0", [new(EdgeSyncPaths.RedisChangeField, change)]), FeedTrust.RevocationsOnly, out var parsed));
        Assert.Null(parsed);

        byte[] body = [.. "{\"sequence\":1,\"changes\":[{\"seq\":1,\"type\":\"jwks\",\"jwks\":"u8, .. jwks, .. "}],\"reset\":false}"u8];
        var batch = JsonSerializer.Deserialize<EdgeChangeBatch>(body, JsonSerializerOptions.Web)!;
        Assert.Throws<JsonException>(() => FeedRecords.EnsureComplete(batch));
    }

    /// <summary>changefeed: a batch whose 'changes' is missing or null (and a snapshot missing its issuer) threw NullReferenceException while applying.</summary>
    [Fact]
    public void Feed_records_missing_required_members_are_malformed_not_exceptions()
    {
        Assert.Throws<JsonException>(() => FeedRecords.EnsureComplete(JsonSerializer.Deserialize<EdgeChangeBatch>("{\"sequence\":16,\"reset\":false}", JsonSerializerOptions.Web)!));
        Assert.Throws<JsonException>(() => FeedRecords.EnsureComplete(JsonSerializer.Deserialize<EdgeChangeBatch>("{\"sequence\":16,\"changes\":[null],\"reset\":false}", JsonSerializerOptions.Web)!));
        Assert.Throws<JsonException>(() => FeedRecords.EnsureComplete(JsonSerializer.Deserialize<EdgeChangeBatch>(
            "{\"sequence\":16,\"changes\":[{\"seq\":16,\"type\":\"revocation\",\"revocation\":{\"seq\":16,\"kind\":\"jti\",\"value\":null,\"expires_at\":1}}]}", JsonSerializerOptions.Web)!));
        Assert.Throws<JsonException>(() => FeedRecords.EnsureComplete(JsonSerializer.Deserialize<EdgeSnapshot>("{\"seq\":29,\"type\":\"org_keys\"}", JsonSerializerOptions.Web)!));
        Assert.Throws<JsonException>(() => FeedRecords.EnsureComplete(JsonSerializer.Deserialize<EdgeSnapshot>(
            "{\"sequence\":1,\"issuer\":{\"issuer\":\"i\",\"audiences\":[\"a\"],\"jwks_uri\":\"u\",\"jwks\":{\"keys\":[]}},\"revocations\":[],\"feed_key\":{\"kid\":\"k\"}}", JsonSerializerOptions.Web)!));
        var complete = FeedRecords.EnsureComplete(JsonSerializer.Deserialize<EdgeSnapshot>(
            "{\"sequence\":1,\"issuer\":{\"issuer\":\"i\",\"audiences\":[\"a\"],\"jwks_uri\":\"u\",\"jwks\":{\"keys\":[]}},\"revocations\":[]}", JsonSerializerOptions.Web)!);
        Assert.Equal(1, complete.Sequence);
    }

    /// <summary>
    /// jwks/changefeed: an issuer's JWKS whose strings are not UTF-8, or hold an escaped lone surrogate, threw from the
    /// parser (and so from the key refresh) instead of being refused with a reason while the previous key set stays.
    /// </summary>
    [Fact]
    public void A_jwks_with_text_that_is_not_utf8_or_utf16_is_refused_with_a_reason()
    {
        byte[] invalidUtf8 = [.. "{\"keys\":[{\"kty\":\"EC\",\"crv\":\""u8, 0xFF, .. "\"}]}"u8];
        Assert.False(JwksParser.TryParse(invalidUtf8, Issuer, out _, out var error));
        Assert.Contains("UTF-8", error);
        Assert.False(JwksParser.TryParse("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"\\ud800\"}]}"u8, Issuer, out _, out error));
        Assert.Contains("UTF-16", error);
        // The document's duplicate-member check threw InvalidOperationException (not JsonException) on such a member name.
        Assert.False(JwksParser.TryParse("{\"keys\":[{\"kty\":\"EC\",\"h\\ud800ey_ops\":[\"sign\"]}]}"u8, Issuer, out _, out error));
        Assert.Contains("not valid JSON", error);
        using var document = JsonDocument.Parse("[{\"kty\":\"EC\",\"org\":\"\\udc00\"}, {\"key\\ud800s\":[]}]");
        Assert.Equal("", JwksParser.OrgOf(document.RootElement[0]));
        // A member name that is not text cannot be compared with 'keys' (the feed's JSON is not checked for duplicates).
        Assert.Null(JwksParser.KeysOf(document.RootElement[1]));
    }

    /// <summary>
    /// ratelimit: "1/24h burst 1000000000" made burst × emission interval pass the long range; the capacity wrapped
    /// negative and the limit refused every request, the first one included.
    /// </summary>
    [Fact]
    public void A_huge_burst_on_a_slow_limit_admits_its_burst()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        Assert.True(RateLimitPolicy.TryParse("route", "1/24h burst 1000000000", out var limit, out var error), error);
        var constants = limit.Constants(time.TimestampFrequency);
        Assert.True(constants.Capacity >= constants.Interval);
        var limiter = new RateLimiter(new BucketTable(64), new InMemoryOrgRateLimits(), null, 1, time, null);
        var identity = new EdgeIdentity { Subject = "u", Scopes = [], ScopesHeader = "", AuthType = "jwt" };
        for (var i = 0; i < 100; i++)
        {
            var decision = limiter.Check(limit, identity, null);
            Assert.True(decision.Allowed, $"request {i} refused");
            Assert.True(decision.Remaining >= 0);
        }
    }

    /// <summary>
    /// Property test against Microsoft.IdentityModel: nbf after exp, both within the 30 s skew of now, was accepted by
    /// the edge (and refused by the library). No instant makes such a token valid.
    /// </summary>
    [Fact]
    public void A_token_whose_nbf_lies_after_its_exp_is_refused()
    {
        var key = TestKey.Es256("k");
        var issuer = new TrustedIssuer(new IssuerOptions { Issuer = Jwt.Issuer, Audiences = [Jwt.Audience], JwksUri = "x", Algorithms = ["ES256"] });
        var registry = new IssuerRegistry([issuer]);
        Assert.True(JwksParser.TryParse(Encoding.UTF8.GetBytes(TestKey.Jwks(key)), issuer, out var keys, out _));
        registry.Publish(issuer, new KeySet(keys, DateTimeOffset.UtcNow));
        var validator = new JwtValidator(registry, TimeProvider.System, new EdgeTokenOptions());
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var token = Encoding.ASCII.GetBytes(Jwt.Sign(key, Jwt.Header(key),
            $"{{\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"sub\":\"u\",\"exp\":{now - 10},\"nbf\":{now + 10}}}"));
        var payload = new byte[JwtValidator.PayloadBufferSize(token.Length)];
        Assert.False(validator.TryValidate(token, payload, out _, out var refusal));
        Assert.Same(EdgeError.NeverValid, refusal);
        // Held for good by the negative cache: the bytes decide it, and no clock will.
        Assert.Equal(long.MaxValue, validator.FailureHoldsUntil(refusal!, payload, now));
    }
}
