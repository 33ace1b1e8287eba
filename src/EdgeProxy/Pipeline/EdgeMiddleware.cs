using System.Diagnostics;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Policy;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Revocation;
using Authio.Shared.ApiKeys;
using Authio.Shared.Tokens;
using Yarp.ReverseProxy.Model;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>
/// The edge's stage in the YARP proxy pipeline. The whole order (README's request-flow diagram):
/// path hygiene → strip spoofable headers (both <see cref="RequestHygiene"/>, before routing) → authenticate
/// (credential → token or API key → revocation) → authorize (issuer, scopes, org, project) → rate limit → set trusted
/// identity headers → forward (<see cref="ForwarderErrors"/> answers a failed forward). Rejections never reach the upstream.
/// </summary>
internal sealed class EdgeMiddleware(
    RequestDelegate next,
    EdgeAuthenticator authenticator,
    RoutePolicies policies,
    JwksRefresher refresher,
    ApiKeyAuthenticator apiKeys,
    EdgeMetrics metrics,
    RateLimiter rateLimiter,
    IRevocationCheck revocation,
    WebSockets.LiveConnections liveConnections)
{
    private const string OkCode = "ok";

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var headers = context.Request.Headers;
        var policy = policies.Get(context.GetReverseProxyFeature().Route.Config);
        if (policy.Anonymous)
        {
            if (!policy.ForwardAuthorization)
            {
                headers.Authorization = default;
            }
            // Rate limit (issue 6): anonymous callers are limited per IP.
            if (!rateLimiter.Admit(context, policy, null, out var anonymousDecision))
            {
                metrics.Decision(EdgeError.RateLimited.Code);
                await RateLimitResponses.WriteAsync(context, anonymousDecision);
                return;
            }
            await next(context);
            await ForwarderErrors.AnswerAsync(context);
            return;
        }

        var error = Authenticate(context, out var identity, out var followUp);
        if (followUp == FollowUp.RefreshKeys && await refresher.RefreshForUnknownKidAsync(context.RequestAborted))
        {
            error = Authenticate(context, out identity, out _);
        }
        else if (followUp == FollowUp.LookUpApiKey)
        {
            (identity, error) = await apiKeys.AuthenticateAsync(BearerCredential(context).ToString(), context.Connection.RemoteIpAddress, context.RequestAborted);
        }
        if (ReferenceEquals(error, EdgeError.UnknownKey))
        {
            // Still unknown after the key refresh (or refresh on cooldown): a kid no issuer of ours has, charged.
            authenticator.Charge(context.Connection.RemoteIpAddress);
        }
        if (ReferenceEquals(error, EdgeError.RevocationUnconfirmed))
        {
            error = await ConfirmRevocationAsync(context, identity!);
        }
        error ??= Authorize(context, policy, identity!);
        metrics.AuthenticationTime(started);
        if (error is not null)
        {
            // Rate limit (issue 6): on a limited route a failure spends the client IP's failure bucket and carries its headers;
            // a genuine credential's state (expired, revoked, …) only reports the bucket (FailureCharges).
            if (!rateLimiter.AdmitFailure(context, policy, identity, FailureCharges.SpendsRouteFailureBucket(error), out var failureDecision))
            {
                metrics.Decision(EdgeError.RateLimited.Code);
                await RateLimitResponses.WriteAsync(context, failureDecision);
                return;
            }
            metrics.Decision(error.Code);
            await ProblemResponses.WriteAsync(context, error);
            return;
        }
        // Rate limit (issue 6): after authorization, so refused credentials never spend a caller's quota.
        if (!rateLimiter.Admit(context, policy, identity, out var decision))
        {
            metrics.Decision(EdgeError.RateLimited.Code);
            await RateLimitResponses.WriteAsync(context, decision);
            return;
        }
        // An upgrade (WebSocket) is tracked so it is closed when its credential expires or is revoked.
        if (!liveConnections.TryTrack(context, identity!))
        {
            metrics.Decision(EdgeError.RateLimited.Code);
            await ProblemResponses.WriteAsync(context, WebSockets.LiveConnections.Full);
            return;
        }
        metrics.Decision(OkCode);
        SetIdentityHeaders(headers, policy, identity!);
        // An API key is a long-lived secret: it never leaves the edge, whatever the route says.
        if (!policy.ForwardAuthorization || identity!.KeyId is not null)
        {
            headers.Authorization = default;
        }
        await next(context);
        await ForwarderErrors.AnswerAsync(context);
    }

    private enum FollowUp { None, RefreshKeys, LookUpApiKey }

    /// <summary>A bloom-filter positive the local state cannot settle: one Redis round trip (≈ 0.1 % of clean requests).</summary>
    private async ValueTask<EdgeError?> ConfirmRevocationAsync(HttpContext context, EdgeIdentity identity)
    {
        switch (await revocation.ConfirmAsync(identity, context.RequestAborted))
        {
            case RevocationVerdict.Clean:
                return null;
            case RevocationVerdict.Revoked:
                return identity.KeyId is null ? EdgeError.Revoked : ApiKeyAuthenticator.Revoked; // a genuine credential's state: not charged
            default:
                return EdgeError.RevocationUnavailable; // Edge:Revocation:FailClosed
        }
    }

    /// <summary>The bearer credential of a request already accepted by <see cref="Authenticate"/>'s header checks.</summary>
    private static ReadOnlySpan<char> BearerCredential(HttpContext context) =>
        context.Request.Headers.Authorization[0].AsSpan().Trim()[7..].TrimStart(' ');

    private EdgeError? Authenticate(HttpContext context, out EdgeIdentity? identity, out FollowUp followUp)
    {
        identity = null;
        followUp = FollowUp.None;
        var client = context.Connection.RemoteIpAddress;
        var authorization = context.Request.Headers.Authorization;
        EdgeError? error;
        if (authorization.Count == 0)
        {
            EdgeAuthenticator.Refuse(EdgeError.MissingCredential, out error);
            return error;
        }
        if (authorization.Count > 1)
        {
            EdgeAuthenticator.Refuse(EdgeError.MultipleCredentials, out error);
            return error;
        }
        var value = authorization[0].AsSpan().Trim();
        if (value.Length < 7 || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            EdgeAuthenticator.Refuse(value.Length == 0 ? EdgeError.MissingCredential : EdgeError.UnsupportedScheme, out error);
            return error;
        }
        var token = value[7..].TrimStart(' ');
        if (token.Length == 0)
        {
            EdgeAuthenticator.Refuse(EdgeError.MissingCredential, out error);
            return error;
        }
        if (token.IndexOfAny(',', ' ') >= 0)
        {
            // A comma list or a second credential in one header: never pick one of them.
            EdgeAuthenticator.Refuse(EdgeError.MultipleCredentials, out error);
            return error;
        }
        if (ApiKeyFormat.HasApiKeyPrefix(token))
        {
            if (!apiKeys.TryAuthenticateCached(token, client, out identity, out error))
            {
                followUp = FollowUp.LookUpApiKey;
            }
            return error;
        }
        if (authenticator.TryAuthenticate(token, client, out identity, out error))
        {
            return null;
        }
        followUp = ReferenceEquals(error, EdgeError.UnknownKey) ? FollowUp.RefreshKeys : FollowUp.None;
        return error;
    }

    private static EdgeError? Authorize(HttpContext context, RoutePolicy policy, EdgeIdentity identity)
    {
        // Issuers, project roles, scopes (wildcards) and claim-header values: RouteAuthorization.
        if (RouteAuthorization.Check(context, policy, identity) is { } refused)
        {
            return refused;
        }
        if (policy.OrgRouteValue is not null
            && (identity.Org is null || context.Request.RouteValues[policy.OrgRouteValue] is not string routeOrg
                || !string.Equals(routeOrg, identity.Org, StringComparison.Ordinal)))
        {
            return EdgeError.OrgMismatch;
        }
        return null;
    }

    private static void SetIdentityHeaders(IHeaderDictionary headers, RoutePolicy policy, EdgeIdentity identity)
    {
        // Header-safe values were computed once for this credential (IdentityHeaderValue); nothing is encoded per request.
        SetIfPresent(headers, IdentityHeaders.Subject, identity.SubjectHeader);
        SetIfPresent(headers, IdentityHeaders.KeyId, identity.KeyId);
        headers[IdentityHeaders.Scopes] = identity.ScopesHeader;
        headers[IdentityHeaders.AuthType] = identity.AuthType;
        SetIfPresent(headers, IdentityHeaders.Org, identity.OrgHeader ?? identity.Org);
        SetIfPresent(headers, IdentityHeaders.Session, identity.SessionHeader);
        SetIfPresent(headers, IdentityHeaders.TokenId, identity.TokenIdHeader);
        RouteAuthorization.SetClaimHeaders(headers, policy, identity);
    }

    private static void SetIfPresent(IHeaderDictionary headers, string name, string? value)
    {
        if (value is not null)
        {
            headers[name] = value;
        }
    }
}
