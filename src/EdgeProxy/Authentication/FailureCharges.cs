using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Errors;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// Which refusals spend a client address's route failure bucket (<c>RateLimiter.AdmitFailure</c>). Honest clients
/// behind one address (an office, carrier-grade NAT) routinely send expired or revoked credentials and refresh on the
/// 401: if those spent the shared bucket, the neighbours' refusals would turn into 429s and their refresh logic would
/// back off instead. So the state of a genuine credential (a trusted key signed it, or the control plane issued the key)
/// and this edge's own inability to decide never spend it; everything else does (bad signatures, garbage, unknown or
/// random keys, and the cheap refusals: missing credential, wrong scheme, insufficient scope, org mismatch).
/// The per-address failure budget in front of the signature path is narrower still: see <see cref="EdgeAuthenticator"/>.
/// </summary>
internal static class FailureCharges
{
    private static readonly EdgeError[] CredentialState =
    [
        EdgeError.Expired, EdgeError.NotYetValid, EdgeError.IssuedInFuture, EdgeError.WrongIssuer, EdgeError.WrongAudience,
        EdgeError.MissingExpiry, EdgeError.InvalidSubject, EdgeError.InvalidClaim, EdgeError.NeverValid, EdgeError.MalformedPayload,
        EdgeError.KeyOrgMismatch, EdgeError.Revoked, EdgeError.RevocationUnavailable,
        ApiKeyAuthenticator.Revoked, ApiKeyAuthenticator.Expired, ApiKeyAuthenticator.CannotVerify,
        ApiKeyAuthenticator.TestKeyOnLiveEdge, ApiKeyAuthenticator.LiveKeyOnTestEdge,
    ];

    /// <summary>Whether <paramref name="error"/> spends the client address's failure bucket on a rate-limited route.</summary>
    public static bool SpendsRouteFailureBucket(EdgeError error)
    {
        if (ReferenceEquals(error.Code, Shared.Errors.ErrorCodes.StepUpRequired))
        {
            return false; // a route's step-up answers are built per route: a genuine token whose sign-in is too old or weak
        }
        foreach (var state in CredentialState)
        {
            if (ReferenceEquals(state, error))
            {
                return false;
            }
        }
        return true;
    }
}
