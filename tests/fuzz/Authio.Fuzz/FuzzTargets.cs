using System.Buffers.Text;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Redis;
using Authio.EdgeProxy.Sync;
using Authio.EdgeProxy.Tokens;
using Authio.Shared.ApiKeys;
using Authio.Shared.RateLimits;
using Authio.Shared.Sync;
using StackExchange.Redis;

namespace Authio.Fuzz;

/// <summary>
/// One function per fuzz target. Each takes the fuzzer's bytes, drives the edge's own code as it would meet those bytes,
/// and throws only for a bug: an exception the edge would not have caught, or a broken invariant
/// (<see cref="FuzzInvariantException"/>). Everything the edge expects (a refusal, a JsonException it catches) returns.
/// </summary>
internal static class FuzzTargets
{
    /// <summary>
    /// The targets by name. Their state lives in nested holders built on first use: under the fuzzer that is inside its
    /// loop, after SharpFuzz has mapped the trace memory the instrumented assemblies write to.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["jws"] = Jws,
        ["base64url"] = Base64UrlTarget,
        ["jwks"] = Jwks,
        ["ratelimit"] = RateLimit,
        ["apikey"] = ApiKey,
        ["changefeed"] = ChangeFeed,
    };

    private static class JwsState
    {
        public static readonly JwtValidator Validator = FuzzKeys.Validator();
    }

    private static class JwksState
    {
        public static readonly TrustedIssuer Issuer = new(new IssuerOptions
        {
            Issuer = FuzzKeys.Issuer, Audiences = [FuzzKeys.Audience], JwksUri = "fuzz",
            Algorithms = ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
        });
    }

    private static class RateLimitState
    {
        public static readonly InMemoryOrgRateLimits OrgLimits = new();
    }

    /// <summary>
    /// First byte, modulo 3: 0 → the rest is the token as sent; 1 → the rest is a token the harness signs with the HS256
    /// secret first (replacing whatever follows the last dot), so the fuzzer reaches the payload parser, which runs only
    /// after a good signature; 2 → the rest is header JSON, a newline and payload JSON, which the harness encodes and
    /// signs (HS256), so the fuzzer mutates the JSON itself rather than its base64url.
    /// </summary>
    public static void Jws(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }
        var token = (input[0] % 3) switch
        {
            0 => input[1..],
            1 => ResignHs256(input.AsSpan(1)),
            _ => EncodeAndSign(input.AsSpan(1)),
        };
        var payload = new byte[JwtValidator.PayloadBufferSize(token.Length)];
        var validator = JwsState.Validator;
        var accepted = validator.TryValidate(token, payload, out var claims, out var error, out var verified);
        Check(accepted == (error is null), "verdict and error disagree");
        if (!accepted)
        {
            Check(!ReferenceEquals(error, null) && error.Code.Length > 0, "a refusal without a code");
            if (verified)
            {
                validator.FailureHoldsUntil(error!, payload.AsSpan(0, claims.PayloadLength), FuzzKeys.Now.ToUnixTimeSeconds());
            }
            return;
        }
        // Accepted: the token is canonical (three strict base64url segments), and its claims become header values.
        var parts = Encoding.ASCII.GetString(token).Split('.');
        Check(parts.Length == 3 && parts.All(p => Base64UrlStrict.TryDecodeToArray(p) is not null || p.Length == 0), "an accepted token is not canonical");
        var json = payload.AsSpan(0, claims.PayloadLength);
        foreach (var slice in new[] { claims.Subject, claims.Org, claims.SessionId, claims.TokenId, claims.Scope, claims.Role })
        {
            if (slice.GetString(json) is { } value)
            {
                Check(JwtValidator.IsHeaderSafe(Encoding.UTF8.GetBytes(value)), "an accepted claim is not header-safe");
                IdentityHeaderValue.Encode(value);
            }
        }
        foreach (var scope in claims.ScopeArray.GetStringArray(json))
        {
            Check(JwtValidator.IsHeaderSafe(Encoding.UTF8.GetBytes(scope)), "an accepted scp entry is not header-safe");
        }
        var again = new byte[payload.Length];
        Check(validator.TryValidate(token, again, out _, out _), "the same token was refused the second time");
    }

    private static byte[] EncodeAndSign(ReadOnlySpan<byte> json)
    {
        var newline = json.IndexOf((byte)'\n');
        var header = newline < 0 ? json : json[..newline];
        var payload = newline < 0 ? [] : json[(newline + 1)..];
        return ResignHs256([.. Encoding.ASCII.GetBytes(Base64Url.EncodeToString(header) + "." + Base64Url.EncodeToString(payload) + ".")]);
    }

    private static byte[] ResignHs256(ReadOnlySpan<byte> token)
    {
        var lastDot = token.LastIndexOf((byte)'.');
        if (lastDot < 0)
        {
            return token.ToArray();
        }
        var input = token[..lastDot];
        var mac = HMACSHA256.HashData(FuzzKeys.HmacSecret, input);
        return [.. input, (byte)'.', .. Encoding.ASCII.GetBytes(Base64Url.EncodeToString(mac))];
    }

    /// <summary>
    /// Differential: the strict decoder accepts exactly what the platform's lenient base64url decoder accepts and
    /// re-encodes to the same characters (no padding, no whitespace, no stray bits).
    /// </summary>
    public static void Base64UrlTarget(byte[] input)
    {
        var strict = new byte[Base64UrlStrict.MaxDecodedLength(input.Length)];
        var accepted = Base64UrlStrict.TryDecode(input, strict, out var written);
        var lenient = new byte[Base64Url.GetMaxDecodedLength(input.Length) + 3];
        var canonical = Base64Url.DecodeFromUtf8(input, lenient, out var consumed, out var lenientWritten) == System.Buffers.OperationStatus.Done
            && consumed == input.Length
            && Base64Url.EncodeToString(lenient.AsSpan(0, lenientWritten)) == Encoding.Latin1.GetString(input);
        Check(accepted == canonical, accepted ? "accepted a non-canonical encoding" : "refused a canonical encoding");
        if (accepted)
        {
            Check(strict.AsSpan(0, written).SequenceEqual(lenient.AsSpan(0, lenientWritten)), "decoded to other bytes than the platform");
        }
        var viaString = Base64UrlStrict.TryDecodeToArray(Encoding.Latin1.GetString(input));
        Check((viaString is not null) == (accepted && input.Length > 0), "the string overload disagrees");
    }

    /// <summary>A JWKS document as an issuer serves it, then (when it is JSON) as the control plane's feed carries one org's keys.</summary>
    public static void Jwks(byte[] input)
    {
        if (JwksParser.TryParse(input, JwksState.Issuer, out var keys, out var error))
        {
            Check(keys.Length <= JwksParser.MaxKeys, "more keys than the limit");
            Check(keys.Select(k => k.Kid).Where(k => k is not null).Distinct().Count() == keys.Count(k => k.Kid is not null), "duplicate kids accepted");
        }
        else
        {
            Check(error.Length > 0, "a refusal without a reason");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(input);
        }
        catch (JsonException)
        {
            return;
        }
        using (document)
        {
            if (JwksParser.KeysOf(document.RootElement) is { } items)
            {
                var list = items.ToList();
                JwksParser.TryParseOrgKeys(list, JwksState.Issuer, "", out _, out _);
                JwksParser.TryParseOrgKeys(list, JwksState.Issuer, list.Count > 0 ? JwksParser.OrgOf(list[0]) : "org_a", out _, out _);
            }
        }
    }

    /// <summary>The grammar as written by an operator or an org admin: text in, and every parsed limit prints back to itself.</summary>
    public static void RateLimit(byte[] input)
    {
        var text = Encoding.UTF8.GetString(input);
        if (!RateLimitSpec.TryParse(text, out var spec, out var error))
        {
            Check(error.Length > 0, "a refusal without a reason");
            Check(!RateLimitState.OrgLimits.TryApply("org_fuzz", text, out _) || string.IsNullOrWhiteSpace(text), "the org path accepted what the grammar refused");
            return;
        }
        Check(RateLimitSpec.TryParse(spec.ToString(), out var again, out _) && again == spec, "parse(format(x)) != x");
        Check(spec.Count >= 1 && spec.Burst >= 1 && spec.Period > TimeSpan.Zero, "a limit outside its ranges");
        var policy = RateLimitPolicy.FromSpec("fuzz", spec);
        var constants = policy.Constants(Stopwatch.Frequency);
        Check(constants.Interval >= 1 && constants.Capacity >= constants.Interval, "GCRA constants out of range");
        policy.Share(3);
        Check(RateLimitState.OrgLimits.TryApply("org_fuzz", text, out _), "the org path refused what the grammar accepted");
    }

    /// <summary>
    /// A credential as the edge reads it from a header (Latin-1: one char per byte, as Kestrel hands over header bytes):
    /// format and checksum, then the digest the edge computes for a well-formed key, against the platform's SHA-256.
    /// </summary>
    public static void ApiKey(byte[] input)
    {
        var key = Encoding.Latin1.GetString(input);
        ApiKeyFormat.HasApiKeyPrefix(key);
        if (!ApiKeyFormat.IsWellFormed(key, out _))
        {
            return;
        }
        Check(key.All(char.IsAscii), "a well-formed key is not ASCII");
        Span<byte> digest = stackalloc byte[ApiKeyFormat.DigestLength];
        ApiKeyDigest.Compute(Encoding.ASCII.GetBytes(key), digest);
        Check(digest.SequenceEqual(ApiKeyFormat.ComputeDigest(key)), "the edge's SHA-256 differs from the platform's");
        ApiKeyDigest.ComputeManaged(Encoding.ASCII.GetBytes(key), digest);
        Check(digest.SequenceEqual(ApiKeyFormat.ComputeDigest(key)), "the managed SHA-256 differs from the platform's");
        // The checksum catches every single-character change.
        for (var i = ApiKeyFormat.PrefixLength; i < key.Length; i++)
        {
            var chars = key.ToCharArray();
            chars[i] = chars[i] == 'A' ? 'B' : 'A';
            Check(!ApiKeyFormat.IsWellFormed(chars, out _), "a one-character change kept the checksum valid");
        }
    }

    /// <summary>
    /// The change feed as an edge reads it. First byte: 0 → one Redis stream entry (the harness signs it with the feed
    /// key so the reader gets past the signature), 1 → an HTTP change batch, 2 → an HTTP snapshot; each then applied to
    /// a fresh sync client that holds a snapshot.
    /// </summary>
    public static void ChangeFeed(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }
        var body = input[1..];
        var client = FeedHarness.Client();
        switch (input[0] % 3)
        {
            case 0:
                var signature = EdgeFeedSignature.Sign(FuzzKeys.Feed, body);
                var entry = new StreamEntry($"{SequenceHint(body)}-0",
                [
                    new(EdgeSyncPaths.RedisChangeField, body),
                    new(EdgeSyncPaths.RedisSignatureField, signature),
                    new(EdgeSyncPaths.RedisKeyIdField, FeedHarness.Trust.KeyId),
                ]);
                if (RedisChangeFeed.Verify(entry, FeedHarness.Trust, out var change) is null)
                {
                    client.ApplyChanges(new EdgeChangeBatch(change!.Sequence, [change], Reset: false));
                }
                break;
            case 1:
                if (Deserialize<EdgeChangeBatch>(body, FeedRecords.EnsureComplete) is { } batch)
                {
                    client.ApplyChanges(batch);
                }
                break;
            default:
                if (Deserialize<EdgeSnapshot>(body, FeedRecords.EnsureComplete) is { } snapshot)
                {
                    client.ApplySnapshot(snapshot);
                }
                break;
        }
    }

    /// <summary>The entry id a genuine writer would have used: the change's own <c>seq</c> when it has one.</summary>
    private static long SequenceHint(byte[] body)
    {
        try
        {
            return JsonDocument.Parse(body).RootElement is { ValueKind: JsonValueKind.Object } root
                && root.TryGetProperty("seq", out var seq) && seq.ValueKind == JsonValueKind.Number && seq.TryGetInt64(out var value) ? value : 1;
        }
        catch (JsonException)
        {
            return 1;
        }
    }

    /// <summary>
    /// As <c>ControlPlaneClient</c> reads the feed (<c>GetFromJsonAsync</c>, then the completeness check): a JsonException
    /// is the sync loop's to catch (it backs off and reads again).
    /// </summary>
    private static T? Deserialize<T>(byte[] body, Func<T, T> ensureComplete)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body, JsonSerializerOptions.Web) is { } value ? ensureComplete(value) : null;
        }
        catch (JsonException)
        {
            return default;
        }
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(what);
        }
    }
}

/// <summary>A property the target must keep did not hold: reported to the fuzzer as a crash.</summary>
internal sealed class FuzzInvariantException(string message) : Exception(message);

/// <summary>A sync client wired as the edge wires it, minus the network (nothing here makes a call).</summary>
internal static class FeedHarness
{
    public static readonly FeedTrust Trust = new(EdgeFeedSignature.Import(EdgeFeedSignature.PublicKeyOf(FuzzKeys.Feed)), EdgeFeedSignature.PublicKeyOf(FuzzKeys.Feed).Kid);

    private static readonly System.Diagnostics.Metrics.IMeterFactory Meters =
        Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(
            Microsoft.Extensions.DependencyInjection.MetricsServiceExtensions.AddMetrics(new Microsoft.Extensions.DependencyInjection.ServiceCollection()))
        .GetService(typeof(System.Diagnostics.Metrics.IMeterFactory)) as System.Diagnostics.Metrics.IMeterFactory
        ?? throw new InvalidOperationException("no meter factory");

    private static readonly EdgeSnapshot Snapshot = new(
        Sequence: 10,
        Issuer: new EdgeIssuerInfo(FuzzKeys.Issuer, [FuzzKeys.Audience], "fuzz", JsonDocument.Parse(FuzzKeys.EcJwks()).RootElement),
        Revocations: [new RevocationRecord(3, RevocationKinds.TokenId, "jti_1", null, 4_000_000_000)],
        GeneratedAt: FuzzKeys.Now,
        OrgSettings: [new EdgeOrgSettings("org_a", "100/1s")],
        FeedKey: EdgeFeedSignature.PublicKeyOf(FuzzKeys.Feed));

    /// <summary>Never called: ApplyChanges and ApplySnapshot make no request.</summary>
    private static readonly ControlPlaneClient NoControlPlane = new(new HttpClient { BaseAddress = new Uri("http://127.0.0.1:9/") });

    private static readonly FixedTime Time = new(FuzzKeys.Now);

    /// <summary>
    /// One for every input: building the instruments is most of a sync client's cost, and the sync client only records
    /// into them (their gauges read this registry, not the client's).
    /// </summary>
    private static readonly Authio.EdgeProxy.Diagnostics.EdgeMetrics Metrics = new(Meters, new IssuerRegistry([]), Time);

    public static EdgeSyncClient Client()
    {
        var time = Time;
        var registry = new IssuerRegistry([]);
        var client = new EdgeSyncClient(
            NoControlPlane,
            registry,
            new Authio.EdgeProxy.Revocation.RevocationStage(time),
            new InMemoryOrgRateLimits(),
            Metrics,
            new EdgeOptions(),
            time,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<EdgeSyncClient>.Instance);
        client.ApplySnapshot(Snapshot);
        return client;
    }
}
