using System.Runtime.CompilerServices;
using System.Buffers;
using System.Net;
using System.Text;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tokens;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// Turns a bearer token into an <see cref="EdgeIdentity"/>: cache first (exp, key retirement and revocation are
/// re-checked on every hit), then the negative cache (signed tokens that failed a claim check, answered again without
/// a signature check), full validation on a miss, a per-address failure budget in front of the expensive path.
/// The budget is charged only for what a legitimate client never sends (<see cref="Fail"/>): bad signatures, garbage
/// and oversized tokens, unknown kids after a key refresh, random API keys. A genuine token's state (expired, not yet
/// valid, wrong audience, revoked, …) is <see cref="Refuse"/>d without a charge, as are cheap refusals that never reach
/// the signature path (missing credential, wrong scheme).
/// </summary>
internal sealed class EdgeAuthenticator(
    JwtValidator validator,
    TokenCache? cache,
    FailureBudget failureBudget,
    IRevocationCheck revocation,
    EdgeMetrics metrics,
    TimeProvider time,
    NegativeTokenCache? negativeCache = null)
{
    public NegativeTokenCache? NegativeCache => negativeCache;

    [SkipLocalsInit]
    public bool TryAuthenticate(ReadOnlySpan<char> token, IPAddress? client, out EdgeIdentity? identity, out EdgeError? error)
    {
        identity = null;
        if (token.Length > validator.MaxTokenBytes)
        {
            return Fail(client, EdgeError.TokenTooLarge, out error);
        }
        byte[]? rented = null;
        // Exactly token.Length bytes: ASCII is one byte per char (an 8 KB buffer here cost 125–340 ns per hit).
        var bytes = token.Length <= JwtValidator.StackallocLimit
            ? stackalloc byte[token.Length]
            : (rented = ArrayPool<byte>.Shared.Rent(token.Length));
        try
        {
            if (Ascii.FromUtf16(token, bytes, out var written) != System.Buffers.OperationStatus.Done)
            {
                return Fail(client, EdgeError.Malformed, out error);
            }
            return TryAuthenticate(bytes[..written], client, out identity, out error);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true); // the buffer held a bearer token
            }
        }
    }

    public bool TryAuthenticate(ReadOnlySpan<byte> token, IPAddress? client, out EdgeIdentity? identity, out EdgeError? error)
    {
        if (cache is not null && cache.TryGet(token, out var entry))
        {
            identity = entry.Identity;
            if (identity.Key is { Retired: true })
            {
                cache.Remove(entry);
            }
            else if (time.GetUtcNow().ToUnixTimeSeconds() >= identity.ExpiresAt + validator.SkewSeconds)
            {
                // A genuine token that aged out: remembered as expired, never charged to the address.
                cache.Remove(entry);
                negativeCache?.Add(token, EdgeError.Expired, long.MaxValue, time.GetUtcNow().ToUnixTimeSeconds());
                identity = null;
                return Refuse(EdgeError.Expired, out error);
            }
            else
            {
                metrics.CacheHit();
                return CheckRevocation(identity, token, out identity, out error);
            }
        }
        if (cache is not null)
        {
            metrics.CacheMiss();
        }
        identity = null;
        if (negativeCache is not null && negativeCache.TryGet(token, time.GetUtcNow().ToUnixTimeSeconds(), out error))
        {
            // Replay of a signed token that failed a claim check: the same answer, no signature check, no charge.
            return false;
        }
        if (failureBudget.IsExhausted(client))
        {
            error = EdgeError.TooManyFailures;
            return false;
        }
        return ValidateAndCache(token, client, out identity, out error);
    }

    [SkipLocalsInit]
    private bool ValidateAndCache(ReadOnlySpan<byte> token, IPAddress? client, out EdgeIdentity? identity, out EdgeError? error)
    {
        identity = null;
        var size = JwtValidator.PayloadBufferSize(token.Length);
        byte[]? rented = null;
        var payload = size <= JwtValidator.StackallocLimit
            ? stackalloc byte[size]
            : (rented = ArrayPool<byte>.Shared.Rent(size));
        try
        {
            if (!validator.TryValidate(token, payload, out var claims, out error, out var signatureVerified))
            {
                if (signatureVerified)
                {
                    // A trusted key signed it: the client holds a genuine token in a state that refuses it.
                    var now = time.GetUtcNow().ToUnixTimeSeconds();
                    negativeCache?.Add(token, error!, validator.FailureHoldsUntil(error!, payload[..claims.PayloadLength], now), now);
                    return Refuse(error!, out error);
                }
                // An unknown kid is charged only if it is still unknown after the key refresh (EdgeMiddleware).
                return ReferenceEquals(error, EdgeError.UnknownKey) ? Refuse(error!, out error) : Fail(client, error!, out error);
            }
            var validated = EdgeIdentity.FromJwt(claims, payload[..claims.PayloadLength]);
            var accepted = CheckRevocation(validated, token, out identity, out error);
            if (accepted || ReferenceEquals(error, EdgeError.RevocationUnconfirmed))
            {
                cache?.Add(token, validated); // valid token: revocation is re-checked on every hit anyway
            }
            return accepted;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>
    /// Revoked → refused; a bloom positive only Redis can settle → the identity with <see cref="EdgeError.RevocationUnconfirmed"/>
    /// (false), for the pipeline to confirm asynchronously.
    /// </summary>
    private bool CheckRevocation(EdgeIdentity candidate, ReadOnlySpan<byte> token, out EdgeIdentity? identity, out EdgeError? error)
    {
        switch (revocation.Check(candidate))
        {
            case RevocationVerdict.Revoked:
                identity = null;
                // Revoked until it expires (then the validator answers token_expired, remembered for good).
                negativeCache?.Add(token, EdgeError.Revoked, candidate.ExpiresAt + validator.SkewSeconds, time.GetUtcNow().ToUnixTimeSeconds());
                return Refuse(EdgeError.Revoked, out error);
            case RevocationVerdict.Unconfirmed:
                identity = candidate;
                error = EdgeError.RevocationUnconfirmed;
                return false;
            default:
                identity = candidate;
                error = null;
                return true;
        }
    }

    public bool IsBudgetExhausted(IPAddress? client) => failureBudget.IsExhausted(client);

    /// <summary>
    /// A failure a legitimate client never produces: charged to the client address's budget; the request that
    /// exhausts it still gets its own error.
    /// </summary>
    public bool Fail(IPAddress? client, EdgeError reason, out EdgeError error)
    {
        failureBudget.RecordFailure(client);
        error = reason;
        return false;
    }

    /// <summary>Charges one failure to the client address's budget (an unknown kid that a key refresh did not explain).</summary>
    public void Charge(IPAddress? client) => failureBudget.RecordFailure(client);

    /// <summary>A refusal that honest clients produce (a genuine credential's state, a missing one): never charged.</summary>
    public static bool Refuse(EdgeError reason, out EdgeError error)
    {
        error = reason;
        return false;
    }
}
