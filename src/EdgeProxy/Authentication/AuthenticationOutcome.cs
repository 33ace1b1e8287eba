using Authio.EdgeProxy.Errors;

namespace Authio.EdgeProxy.Authentication;

/// <summary>What the synchronous authentication of a credential decided, and what the pipeline must do next.</summary>
internal enum AuthenticationKind : byte
{
    /// <summary>The credential is valid and not revoked: <see cref="AuthenticationOutcome.Identity"/>.</summary>
    Accepted,
    /// <summary>Refused with <see cref="AuthenticationOutcome.Error"/> (already charged to the failure budget if it is charged).</summary>
    Rejected,
    /// <summary>
    /// A well-formed token names a kid no trusted key set holds: refresh the JWKS and authenticate again. Still unknown
    /// afterwards, it is answered with <see cref="AuthenticationOutcome.Error"/> (<see cref="EdgeError.UnknownKey"/>) and charged.
    /// </summary>
    NeedsKeyRefresh,
    /// <summary>A well-formed API key the in-process cache cannot answer: look it up (FusionCache, then the control plane).</summary>
    NeedsApiKeyLookup,
    /// <summary>
    /// The credential is valid but its id is a bloom-filter positive that only the exact set (Redis) can settle:
    /// confirm before the request goes on. <see cref="AuthenticationOutcome.Identity"/> is the candidate.
    /// </summary>
    NeedsRevocationConfirmation,
}

/// <summary>
/// The answer of <see cref="EdgeAuthenticator"/> and <c>ApiKeyAuthenticator</c> for one credential: a decision
/// (<see cref="AuthenticationKind.Accepted"/>, <see cref="AuthenticationKind.Rejected"/>) or the one asynchronous step
/// the pipeline must take before it can decide. A struct over cached errors: building one allocates nothing.
/// </summary>
internal readonly struct AuthenticationOutcome
{
    private AuthenticationOutcome(AuthenticationKind kind, EdgeIdentity? identity, EdgeError? error)
    {
        Kind = kind;
        Identity = identity;
        Error = error;
    }

    public AuthenticationKind Kind { get; }

    /// <summary>Set when <see cref="Kind"/> is <see cref="AuthenticationKind.Accepted"/> or <see cref="AuthenticationKind.NeedsRevocationConfirmation"/>.</summary>
    public EdgeIdentity? Identity { get; }

    /// <summary>Set when <see cref="Kind"/> is <see cref="AuthenticationKind.Rejected"/> or <see cref="AuthenticationKind.NeedsKeyRefresh"/>.</summary>
    public EdgeError? Error { get; }

    /// <summary>True when nothing asynchronous is left to do: the credential is accepted or rejected.</summary>
    public bool IsDecided => Kind is AuthenticationKind.Accepted or AuthenticationKind.Rejected;

    public static AuthenticationOutcome Accepted(EdgeIdentity identity) => new(AuthenticationKind.Accepted, identity, null);

    public static AuthenticationOutcome Rejected(EdgeError error) => new(AuthenticationKind.Rejected, null, error);

    public static AuthenticationOutcome NeedsRevocationConfirmation(EdgeIdentity candidate) =>
        new(AuthenticationKind.NeedsRevocationConfirmation, candidate, null);

    public static readonly AuthenticationOutcome NeedsKeyRefresh = new(AuthenticationKind.NeedsKeyRefresh, null, EdgeError.UnknownKey);

    public static readonly AuthenticationOutcome NeedsApiKeyLookup = new(AuthenticationKind.NeedsApiKeyLookup, null, null);

    /// <summary>
    /// The outcome in the <c>Try…</c> form (tests and benchmarks): true when accepted; false with the refusal in
    /// <paramref name="error"/> (<see cref="EdgeError.UnknownKey"/> when a key refresh is needed), or with the candidate
    /// identity and no error when its revocation awaits confirmation, or with neither when an API key must be looked up.
    /// </summary>
    public bool TryGet(out EdgeIdentity? identity, out EdgeError? error)
    {
        identity = Identity;
        error = Error;
        return Kind == AuthenticationKind.Accepted;
    }
}
