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
/// re-checked on every hit), full validation on a miss, a per-IP failure budget in front of the expensive path.
/// </summary>
internal sealed class EdgeAuthenticator(
    JwtValidator validator,
    TokenCache? cache,
    FailureBudget failureBudget,
    IRevocationCheck revocation,
    EdgeMetrics metrics,
    TimeProvider time)
{
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
                cache.Remove(entry);
                identity = null;
                return Fail(client, EdgeError.Expired, out error);
            }
            else
            {
                metrics.CacheHit();
                return CheckRevocation(identity, client, out identity, out error);
            }
        }
        if (cache is not null)
        {
            metrics.CacheMiss();
        }
        identity = null;
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
            if (!validator.TryValidate(token, payload, out var claims, out error))
            {
                return Fail(client, error!, out error);
            }
            var validated = EdgeIdentity.FromJwt(claims, payload[..claims.PayloadLength]);
            var accepted = CheckRevocation(validated, client, out identity, out error);
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
    private bool CheckRevocation(EdgeIdentity candidate, IPAddress? client, out EdgeIdentity? identity, out EdgeError? error)
    {
        switch (revocation.Check(candidate))
        {
            case RevocationVerdict.Revoked:
                identity = null;
                return Fail(client, EdgeError.Revoked, out error);
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

    /// <summary>Charges a failure to the client's budget; the request that exhausts it still gets its own error.</summary>
    public bool Fail(IPAddress? client, EdgeError reason, out EdgeError error)
    {
        failureBudget.RecordFailure(client);
        error = reason;
        return false;
    }
}
