using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tokens;
using Authio.EdgeProxy.Tracing;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// Turns a bearer token into an <see cref="AuthenticationOutcome"/>: cache first (exp, key retirement and revocation are
/// re-checked on every hit), then the negative cache (signed tokens that failed a claim check, answered again without
/// a signature check), full validation on a miss, a per-address failure budget in front of the expensive path.
/// The budget is charged only for what a legitimate client never sends (<see cref="Fail"/>): bad signatures, garbage
/// and oversized tokens, unknown kids after a key refresh (<see cref="UnknownKeyAfterRefresh"/>), random API keys. A
/// genuine token's state (expired, not yet valid, wrong audience, revoked, …) is rejected without a charge, as are cheap
/// refusals that never reach the signature path (missing credential, wrong scheme).
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

    /// <summary><see cref="Authenticate(ReadOnlySpan{char}, IPAddress?)"/> in the <c>Try…</c> form (<see cref="AuthenticationOutcome.TryGet"/>).</summary>
    public bool TryAuthenticate(ReadOnlySpan<char> token, IPAddress? client, out EdgeIdentity? identity, out EdgeError? error) =>
        Authenticate(token, client).TryGet(out identity, out error);

    /// <summary><see cref="Authenticate(ReadOnlySpan{byte}, IPAddress?)"/> in the <c>Try…</c> form (<see cref="AuthenticationOutcome.TryGet"/>).</summary>
    public bool TryAuthenticate(ReadOnlySpan<byte> token, IPAddress? client, out EdgeIdentity? identity, out EdgeError? error) =>
        Authenticate(token, client).TryGet(out identity, out error);

    /// <summary>
    /// Accepted, rejected, <see cref="AuthenticationKind.NeedsKeyRefresh"/> (an unknown kid, not charged yet) or
    /// <see cref="AuthenticationKind.NeedsRevocationConfirmation"/> (a bloom-filter positive).
    /// </summary>
    [SkipLocalsInit]
    public AuthenticationOutcome Authenticate(ReadOnlySpan<char> token, IPAddress? client)
    {
        if (token.Length > validator.MaxTokenBytes)
        {
            return Fail(client, EdgeError.TokenTooLarge);
        }
        byte[]? rented = null;
        // Exactly token.Length bytes: ASCII is one byte per char (a fixed 8 KB buffer cost more per hit: ValidationBenchmarks, bench/README.md).
        var bytes = token.Length <= JwtValidator.StackallocLimit
            ? stackalloc byte[token.Length]
            : (rented = ArrayPool<byte>.Shared.Rent(token.Length));
        try
        {
            if (Ascii.FromUtf16(token, bytes, out var written) != System.Buffers.OperationStatus.Done)
            {
                return Fail(client, EdgeError.Malformed);
            }
            return Authenticate(bytes[..written], client);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true); // the buffer held a bearer token
            }
        }
    }

    /// <inheritdoc cref="Authenticate(ReadOnlySpan{char}, IPAddress?)"/>
    public AuthenticationOutcome Authenticate(ReadOnlySpan<byte> token, IPAddress? client)
    {
        if (cache is not null && cache.TryGet(token, out var entry))
        {
            var identity = entry.Identity;
            if (identity.Key is { Retired: true } || identity.ClaimPathsStale)
            {
                cache.Remove(entry);
            }
            else if (time.GetUtcNow().ToUnixTimeSeconds() >= identity.ExpiresAt + validator.SkewSeconds)
            {
                // A genuine token that aged out: remembered as expired, never charged to the address.
                cache.Remove(entry);
                negativeCache?.Add(token, EdgeError.Expired, long.MaxValue, time.GetUtcNow().ToUnixTimeSeconds());
                return AuthenticationOutcome.Rejected(EdgeError.Expired);
            }
            else
            {
                metrics.CacheHit();
                EdgeTracing.TokenCache(hit: true);
                return CheckRevocation(identity, token);
            }
        }
        if (cache is not null)
        {
            metrics.CacheMiss();
            EdgeTracing.TokenCache(hit: false);
        }
        if (negativeCache is not null && negativeCache.TryGet(token, time.GetUtcNow().ToUnixTimeSeconds(), out var remembered))
        {
            // Replay of a signed token that failed a claim check: the same answer, no signature check, no charge.
            metrics.Stages.NegativeCacheHit();
            return AuthenticationOutcome.Rejected(remembered!);
        }
        if (failureBudget.IsExhausted(client))
        {
            return AuthenticationOutcome.Rejected(EdgeError.TooManyFailures);
        }
        return ValidateAndCache(token, client);
    }

    [SkipLocalsInit]
    private AuthenticationOutcome ValidateAndCache(ReadOnlySpan<byte> token, IPAddress? client)
    {
        var size = JwtValidator.PayloadBufferSize(token.Length);
        byte[]? rented = null;
        var payload = size <= JwtValidator.StackallocLimit
            ? stackalloc byte[size]
            : (rented = ArrayPool<byte>.Shared.Rent(size));
        try
        {
            if (!validator.TryValidate(token, payload, out var claims, out var error, out var signatureVerified))
            {
                if (signatureVerified)
                {
                    // A trusted key signed it: the client holds a genuine token in a state that refuses it.
                    var now = time.GetUtcNow().ToUnixTimeSeconds();
                    negativeCache?.Add(token, error!, validator.FailureHoldsUntil(error!, payload[..claims.PayloadLength], now), now);
                    return AuthenticationOutcome.Rejected(error!);
                }
                // An unknown kid is charged only if it is still unknown after the key refresh (UnknownKeyAfterRefresh).
                return ReferenceEquals(error, EdgeError.UnknownKey) ? AuthenticationOutcome.NeedsKeyRefresh : Fail(client, error!);
            }
            // A cached identity keeps no copy of the payload (the cache holds the token's bytes once, in its slab): when a
            // route reload adds claim headers, a hit on it is answered by validating the token again (ClaimPathsStale).
            var cached = cache is { Capacity: > 0 };
            var validated = EdgeIdentity.FromJwt(claims, payload[..claims.PayloadLength], keepPayload: !cached);
            var outcome = CheckRevocation(validated, token);
            if (outcome.Kind != AuthenticationKind.Rejected && cached)
            {
                cache!.Add(token, validated); // valid token: revocation is re-checked on every hit anyway
            }
            return outcome;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>Revoked → rejected; a bloom positive only Redis can settle → the pipeline confirms it asynchronously.</summary>
    private AuthenticationOutcome CheckRevocation(EdgeIdentity candidate, ReadOnlySpan<byte> token)
    {
        switch (revocation.Check(candidate))
        {
            case RevocationVerdict.Revoked:
                // Revoked until it expires (then the validator answers token_expired, remembered for good).
                negativeCache?.Add(token, EdgeError.Revoked, candidate.ExpiresAt + validator.SkewSeconds, time.GetUtcNow().ToUnixTimeSeconds());
                return AuthenticationOutcome.Rejected(EdgeError.Revoked);
            case RevocationVerdict.Unconfirmed:
                return AuthenticationOutcome.NeedsRevocationConfirmation(candidate);
            default:
                return AuthenticationOutcome.Accepted(candidate);
        }
    }

    /// <summary>
    /// A kid still unknown after the key refresh (or with the refresh on cooldown): a key no issuer of ours has, so
    /// charged like a bad signature.
    /// </summary>
    public AuthenticationOutcome UnknownKeyAfterRefresh(IPAddress? client) => Fail(client, EdgeError.UnknownKey);

    /// <summary>
    /// A failure a legitimate client never produces: charged to the client address's budget; the request that
    /// exhausts it still gets its own error.
    /// </summary>
    public AuthenticationOutcome Fail(IPAddress? client, EdgeError reason)
    {
        failureBudget.RecordFailure(client);
        return AuthenticationOutcome.Rejected(reason);
    }
}
