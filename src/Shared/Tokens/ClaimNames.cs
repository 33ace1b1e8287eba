namespace Authio.Shared.Tokens;

/// <summary>JWT claim and header names shared by the issuer (control plane) and the validator (edge).</summary>
public static class ClaimNames
{
    public const string Issuer = "iss";
    public const string Subject = "sub";
    public const string Audience = "aud";
    public const string Expires = "exp";
    public const string NotBefore = "nbf";
    public const string IssuedAt = "iat";
    public const string TokenId = "jti";
    public const string SessionId = "sid";
    public const string Org = "org";
    public const string Scope = "scope";
    public const string ScopeArray = "scp";
    public const string Role = "role";
    public const string Teams = "teams";
    /// <summary>Project-scoped roles: a JSON object project id → role (<c>explore</c>, <c>create</c>, <c>mod</c>).</summary>
    public const string Projects = "projects";

    /// <summary>Authentication methods of the sign-in (RFC 8176): <c>pwd</c>, <c>otp</c>, <c>hwk</c>/<c>swk</c>, <c>mfa</c>.</summary>
    public const string AuthenticationMethods = "amr";
    /// <summary>Authentication context class of the sign-in, one of <see cref="AuthenticationLevels"/>.</summary>
    public const string AuthenticationContext = "acr";
    /// <summary>When the user last actively authenticated (NumericDate); kept on refresh, raised by step-up.</summary>
    public const string AuthTime = "auth_time";

    /// <summary>At most this many entries in <see cref="Projects"/> (the highest roles first): tokens stay small.</summary>
    public const int MaxProjects = 64;

    /// <summary>At most this much JSON in <see cref="Projects"/>: project ids may be long, and an edge refuses tokens over 8 KB.</summary>
    public const int MaxProjectsJsonBytes = 2048;

    /// <summary>The <c>typ</c> header the control plane puts on access tokens (RFC 9068).</summary>
    public const string AccessTokenType = "at+jwt";
}

/// <summary>Headers the edge sets for the upstream. Inbound headers with the <c>X-Authio-</c> prefix are always stripped.</summary>
public static class IdentityHeaders
{
    public const string Prefix = "X-Authio-";
    public const string Subject = "X-Authio-Subject";
    public const string Org = "X-Authio-Org";
    public const string Scopes = "X-Authio-Scopes";
    public const string AuthType = "X-Authio-Auth-Type";
    public const string Session = "X-Authio-Session";
    public const string TokenId = "X-Authio-Token-Id";
    public const string KeyId = "X-Authio-Key-Id";

    public const string AuthTypeJwt = "jwt";
    public const string AuthTypeApiKey = "api_key";
}
