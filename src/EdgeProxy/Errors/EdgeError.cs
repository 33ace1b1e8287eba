using System.Text.Json;
using Authio.Shared.Errors;

namespace Authio.EdgeProxy.Errors;

/// <summary>
/// One rejection the edge can answer with. Instances are cached and their problem+json body is serialized once,
/// so a rejection costs a header write and one body copy, never a serializer run.
/// </summary>
internal sealed class EdgeError
{
    public EdgeError(int status, string code, string title, string detail, string? wwwAuthenticate)
    {
        Status = status;
        Code = code;
        Title = title;
        Detail = detail;
        WwwAuthenticate = wwwAuthenticate;
        Body = Serialize(status, code, title, detail);
    }

    public int Status { get; }
    public string Code { get; }
    public string Title { get; }
    /// <summary>Safe to show the caller: never contains the token or key material.</summary>
    public string Detail { get; }
    public string? WwwAuthenticate { get; }
    public byte[] Body { get; }
    /// <summary>A <c>Retry-After</c> the answer always carries (0: none); a 429 carries its own, at least 1 s.</summary>
    public long RetryAfterSeconds { get; private init; }

    private static byte[] Serialize(int status, string code, string title, string detail)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("type", ProblemTypes.For(code));
            writer.WriteString("title", title);
            writer.WriteNumber("status", status);
            writer.WriteString("detail", detail);
            writer.WriteString("code", code);
            writer.WriteEndObject();
        }
        return stream.ToArray();
    }

    public override string ToString() => $"{Status} {Code}: {Detail}";

    // RFC 6750 §3: an invalid token names the error; a request without one gets the bare challenge.
    private const string BareChallenge = "Bearer";

    private static string InvalidToken(string description) =>
        $"Bearer error=\"invalid_token\", error_description=\"{description}\"";

    internal static EdgeError Unauthorized(string detail) =>
        new(401, ErrorCodes.Unauthorized, "Unauthorized", detail, InvalidToken(detail));

    /// <summary>
    /// A credential the edge could not check right now: refused, never admitted on a guess, but no verdict on the
    /// credential — a bare challenge (not <c>invalid_token</c>), its own code and a Retry-After, so a client retries
    /// instead of discarding its key or signing its user out. 401, not 503: the edge's dependencies failing never turns
    /// into a 5xx for traffic, and a forward-auth proxy passes a 401 through where it would turn a 503 into its own 500.
    /// </summary>
    internal static EdgeError Unverifiable(string detail) =>
        new(401, ErrorCodes.VerificationUnavailable, "Unauthorized", detail, BareChallenge) { RetryAfterSeconds = 1 };

    public static readonly EdgeError MissingCredential = new(401, ErrorCodes.Unauthorized, "Unauthorized",
        "This route requires a credential: send 'Authorization: Bearer <token>'.", BareChallenge);

    public static readonly EdgeError UnsupportedScheme = new(401, ErrorCodes.Unauthorized, "Unauthorized",
        "Only the Bearer authorization scheme is accepted.", BareChallenge);

    public static readonly EdgeError MultipleCredentials = new(401, ErrorCodes.Unauthorized, "Unauthorized",
        "Exactly one credential must be sent; the request carried several.",
        "Bearer error=\"invalid_request\", error_description=\"Exactly one credential must be sent.\"");

    public static readonly EdgeError TokenTooLarge = Unauthorized("The token exceeds the maximum accepted size.");
    public static readonly EdgeError Malformed = Unauthorized("The token is not a well-formed compact JWS.");
    public static readonly EdgeError MalformedHeader = Unauthorized("The token header is not valid.");
    public static readonly EdgeError MalformedPayload = Unauthorized("The token payload is not a valid claims object.");
    public static readonly EdgeError DuplicateMember = Unauthorized("The token contains a duplicate JSON member name.");
    public static readonly EdgeError AlgorithmNotAllowed = Unauthorized("The token's signing algorithm is not accepted.");
    public static readonly EdgeError CriticalHeader = Unauthorized("The token carries a critical header parameter this edge does not understand.");
    public static readonly EdgeError TypeNotAllowed = Unauthorized("The token's 'typ' header is not accepted.");
    public static readonly EdgeError UnknownKey = Unauthorized("The token was signed with a key this edge does not trust.");
    public static readonly EdgeError KidRequired = Unauthorized("The token header must name its signing key ('kid').");
    public static readonly EdgeError BadSignature = Unauthorized("The token signature is invalid.");
    public static readonly EdgeError WrongIssuer = Unauthorized("The token was not issued by a trusted issuer.");
    public static readonly EdgeError WrongAudience = Unauthorized("The token is not intended for this audience.");
    public static readonly EdgeError MissingExpiry = Unauthorized("The token must carry a numeric 'exp' claim.");
    public static readonly EdgeError NotYetValid = Unauthorized("The token is not valid yet.");
    public static readonly EdgeError IssuedInFuture = Unauthorized("The token's 'iat' lies in the future.");
    /// <summary>'nbf' after 'exp': no instant at which the token is valid, whatever the clock skew lets through.</summary>
    public static readonly EdgeError NeverValid = Unauthorized("The token's 'nbf' lies after its 'exp'.");
    public static readonly EdgeError InvalidSubject = Unauthorized("The token must carry a string 'sub' claim.");
    public static readonly EdgeError InvalidClaim = Unauthorized("A token claim has the wrong type or contains control characters.");
    public static readonly EdgeError Revoked = Unauthorized("The token has been revoked.");
    /// <summary>A valid signature by a key of one org on a token of another org: the key's org is the only org it speaks for.</summary>
    public static readonly EdgeError KeyOrgMismatch = Unauthorized("The token's org is not the org of the key that signed it.");

    public static readonly EdgeError Expired = new(401, ErrorCodes.TokenExpired, "Token expired",
        "The token has expired; obtain a new one.",
        "Bearer error=\"invalid_token\", error_description=\"The token has expired.\"");

    public static readonly EdgeError OrgMismatch = new(403, ErrorCodes.OrgMismatch, "Forbidden",
        "The credential belongs to a different organization than the requested resource.", null);

    public static readonly EdgeError ProjectMismatch = new(403, ErrorCodes.ProjectMismatch, "Forbidden",
        "The credential holds no role on the project of the requested resource.", null);

    /// <summary>
    /// <c>Edge:Revocation:FailClosed</c>: the credential's id is in the bloom filter and the exact set (Redis) cannot be
    /// consulted; a revoked credential must never pass, so this one does not either.
    /// </summary>
    public static readonly EdgeError RevocationUnavailable = Unverifiable("The credential's revocation status cannot be verified right now; retry shortly.");

    public static readonly EdgeError TooManyFailures = new(429, ErrorCodes.RateLimitExceeded, "Too many requests",
        "Too many failed authentication attempts from this client; retry later.", null);

    public static readonly EdgeError RateLimited = new(429, ErrorCodes.RateLimitExceeded, "Too many requests",
        "The rate limit for this route was reached; retry after the number of seconds in Retry-After.", null);

    // Answers of the proxy itself (no route, upstream failures, request hygiene). Details name no upstream: which
    // destination failed and why is in the edge's log (YARP's forwarder warnings), never in a client's body.

    public static readonly EdgeError NotFound = new(404, ErrorCodes.NotFound, "Not found",
        "No route of this edge matches the request path.", null);

    public static readonly EdgeError MethodNotAllowed = new(405, ErrorCodes.MethodNotAllowed, "Method not allowed",
        "A route matches this path but not this method; the Allow header lists the methods it accepts.", null);

    public static readonly EdgeError BadGateway = new(502, ErrorCodes.BadGateway, "Bad gateway",
        "The upstream service could not be reached or gave an invalid response.", null);

    public static readonly EdgeError UpstreamUnavailable = new(503, ErrorCodes.UpstreamUnavailable, "Service unavailable",
        "No healthy upstream is available for this route right now; retry later.", null);

    public static readonly EdgeError UpstreamTimeout = new(504, ErrorCodes.UpstreamTimeout, "Gateway timeout",
        "The upstream service did not answer in time.", null);

    public static readonly EdgeError RequestBodyFailed = new(400, ErrorCodes.BadRequest, "Bad request",
        "The request body could not be read from the client.", null);

    public static readonly EdgeError DotSegmentPath = new(400, ErrorCodes.InvalidPath, "Invalid path",
        "The request path contains a '.' or '..' segment (also percent-encoded); send the normalized path.", null);

    public static readonly EdgeError EncodedSeparatorPath = new(400, ErrorCodes.InvalidPath, "Invalid path",
        "The request path contains an encoded '/' or '\\' (%2F, %5C) or a backslash, which this route does not accept.", null);

    public static readonly EdgeError RequestHeaderTooLarge = new(431, ErrorCodes.RequestHeaderTooLarge, "Request header fields too large",
        "The request's headers exceed the size this edge accepts.", null);

    /// <summary>A route's scope rejection, built once per route when its policy is compiled.</summary>
    public static EdgeError InsufficientScope(string requiredScopes) => new(403, ErrorCodes.Forbidden, "Forbidden",
        $"The credential lacks a scope this route requires: {requiredScopes}.",
        $"Bearer error=\"insufficient_scope\", scope=\"{requiredScopes}\"");

}
