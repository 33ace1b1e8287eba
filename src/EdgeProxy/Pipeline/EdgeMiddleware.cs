using System.Diagnostics;
using System.Runtime.CompilerServices;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Policy;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tracing;
using Authio.EdgeProxy.WebSockets;
using Authio.Shared.ApiKeys;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>
/// The edge's stage in the YARP proxy pipeline. The whole order (README's request-flow diagram):
/// path hygiene → strip spoofable headers (both <see cref="RequestHygiene"/>, before routing) → routing
/// (<see cref="RouteGateMiddleware"/>: 404, 405) → then here, one named stage each: authenticate (credential → token or
/// API key → revocation) → authorize (issuer, scopes, org, project, step-up) → rate limit → identity headers (upgrades tracked
/// first) → forward (<see cref="ForwarderErrors"/> answers a failed forward). The first stage that refuses decides the
/// answer (<see cref="EdgeResponses"/>): later stages only pass the refusal on, and nothing reaches the upstream. The
/// one exception is by design: a refusal on a rate-limited route spends the client address's failure bucket, which
/// turns it into a 429 once empty. An anonymous route skips authentication and authorization.
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
    LiveConnections liveConnections,
    CoarseClock clock,
    Configuration.EdgeOptions options)
{
    private const string OkCode = EdgeMetrics.OkCode;

    /// <summary>Without a forward-auth listener no request can carry its mark: the look-up (a feature miss) is skipped.</summary>
    private readonly bool _forwardAuthListens = options.ForwardAuth.Enabled;

    public async Task InvokeAsync(HttpContext context)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        var policy = policies.Get(route);
        var span = EdgeTracing.StartStage(route.RouteId); // null unless tracing is on
        var started = Stopwatch.GetTimestamp();
        var verdict = policy.Anonymous ? RequestVerdict.Anonymous : await AuthenticateAsync(context);
        verdict = Authorize(context, policy, verdict, started);
        verdict = RateLimit(context, policy, verdict);
        verdict = TrackUpgrade(context, verdict);
        // Read before the identity stage drops Authorization; each route holds its series, nothing is built here.
        var credential = policy.Anonymous ? CredentialType.Anonymous
            : RequestMetrics.CredentialOf(verdict.Identity?.AuthType, context.Request.Headers.Authorization);
        var routeTags = metrics.Requests.ForRoute(route.RouteId);
        if (verdict.Refusal is not null)
        {
            EdgeTracing.EndStage(span, verdict.Refusal.Code, policy.Anonymous, verdict.Identity);
            metrics.Requests.Refused(routeTags, verdict.Refusal.Code, credential, started);
            await RefuseAsync(context, verdict);
            return;
        }
        var forwardAuth = _forwardAuthListens && context.Features.Get<ForwardAuth.ForwardAuthMark>() is not null;
        HandOverIdentity(context, policy, verdict.Identity, forwardAuth);
        EdgeTracing.EndStage(span, OkCode, policy.Anonymous, verdict.Identity);
        var forwarded = Stopwatch.GetTimestamp();
        metrics.Requests.Stage(routeTags, OkCode, credential, started, forwarded);
        if (forwardAuth)
        {
            // A forward-auth check: the same stages decided; the proxy that asked forwards, not this edge.
            await ForwardAuth.ForwardAuthAnswer.WriteAsync(context, policy, verdict.Identity);
            var answered = Stopwatch.GetTimestamp();
            metrics.Requests.Forwarded(routeTags, OkCode, credential, started, forwarded, answered, answered, StatusCodes.Status200OK);
            return;
        }
        // Forward (inline rather than a method of its own: one async state machine per request, not two).
        await next(context);
        var relayed = Stopwatch.GetTimestamp();
        var status = context.Response.StatusCode;
        // Normally nothing is left to answer and the request ended when the upstream's answer was relayed: no second clock read.
        var ended = relayed;
        var answer = ForwarderErrors.AnswerAsync(context);
        if (!ReferenceEquals(answer, Task.CompletedTask))
        {
            await answer;
            ended = Stopwatch.GetTimestamp();
        }
        metrics.Requests.Forwarded(routeTags, ForwarderErrors.FailureCode(context, status) ?? OkCode, credential, started, forwarded, relayed, ended, status);
    }

    /// <summary>
    /// Authenticate: credential → token or API key → revocation. Synchronous and allocation-free unless the credential
    /// needs one of the rare asynchronous steps (<see cref="FollowUpAsync"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // the steady-state path: no call, no copy of the ValueTask
    private ValueTask<RequestVerdict> AuthenticateAsync(HttpContext context)
    {
        var outcome = Authenticate(context);
        return outcome.IsDecided ? new(RequestVerdict.From(outcome)) : FollowUpAsync(context, outcome);
    }

    private AuthenticationOutcome Authenticate(HttpContext context)
    {
        if (ReadCredential(context.Request.Headers, out var credential) is { } refusal)
        {
            return AuthenticationOutcome.Rejected(refusal); // cheap refusals honest clients make: never charged
        }
        var client = context.Connection.RemoteIpAddress;
        return ApiKeyFormat.HasApiKeyPrefix(credential)
            ? apiKeys.AuthenticateCached(credential, client)
            : authenticator.Authenticate(credential, client);
    }

    /// <summary>
    /// What the synchronous check could not decide: an unknown kid (refresh the JWKS, then authenticate again; still
    /// unknown, it is charged), an API key the hot cache does not hold (look it up), then a bloom-filter positive (ask
    /// the exact set).
    /// </summary>
    private async ValueTask<RequestVerdict> FollowUpAsync(HttpContext context, AuthenticationOutcome outcome)
    {
        var client = context.Connection.RemoteIpAddress;
        if (outcome.Kind == AuthenticationKind.NeedsKeyRefresh)
        {
            if (await refresher.RefreshForUnknownKidAsync(context.RequestAborted))
            {
                outcome = authenticator.Authenticate(BearerCredential(context), client);
            }
            if (outcome.Kind == AuthenticationKind.NeedsKeyRefresh)
            {
                outcome = authenticator.UnknownKeyAfterRefresh(client);
            }
        }
        else if (outcome.Kind == AuthenticationKind.NeedsApiKeyLookup)
        {
            outcome = await apiKeys.LookUpAsync(BearerCredential(context).ToString(), client, context.RequestAborted);
        }
        return outcome.Kind == AuthenticationKind.NeedsRevocationConfirmation
            ? await ConfirmRevocationAsync(context, outcome.Identity!)
            : RequestVerdict.From(outcome);
    }

    /// <summary>A bloom-filter positive the local state cannot settle: one Redis round trip (≈ 0.1 % of clean requests).</summary>
    private async ValueTask<RequestVerdict> ConfirmRevocationAsync(HttpContext context, EdgeIdentity candidate)
    {
        var refusal = (await revocation.ConfirmAsync(candidate, context.RequestAborted)) switch
        {
            RevocationVerdict.Clean => null,
            // A genuine credential's state: not charged.
            RevocationVerdict.Revoked => candidate.KeyId is null ? EdgeError.Revoked : ApiKeyAuthenticator.Revoked,
            _ => EdgeError.RevocationUnavailable, // Edge:Revocation:FailClosed
        };
        return new RequestVerdict(candidate, refusal);
    }

    /// <summary>
    /// The one bearer credential of the request, or the refusal: none, several (two headers, a comma list, a second
    /// credential in one header: never pick one of them), or another scheme.
    /// </summary>
    private static EdgeError? ReadCredential(IHeaderDictionary headers, out ReadOnlySpan<char> credential)
    {
        credential = default;
        var authorization = headers.Authorization;
        if (authorization.Count == 0)
        {
            return EdgeError.MissingCredential;
        }
        if (authorization.Count > 1)
        {
            return EdgeError.MultipleCredentials;
        }
        var value = authorization[0].AsSpan().Trim();
        if (value.Length < 7 || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return value.Length == 0 ? EdgeError.MissingCredential : EdgeError.UnsupportedScheme;
        }
        credential = value[7..].TrimStart(' ');
        if (credential.Length == 0)
        {
            return EdgeError.MissingCredential;
        }
        return credential.IndexOfAny(',', ' ') >= 0 ? EdgeError.MultipleCredentials : null;
    }

    /// <summary>The bearer credential of a request already accepted by <see cref="ReadCredential"/>.</summary>
    private static ReadOnlySpan<char> BearerCredential(HttpContext context) =>
        context.Request.Headers.Authorization[0].AsSpan().Trim()[7..].TrimStart(' ');

    /// <summary>
    /// Authorize: issuers, project roles, scopes (wildcards) and claim-header values (<see cref="RouteAuthorization"/>),
    /// then the org route value, then step-up (<see cref="StepUpPolicy"/>: last, so only what a new sign-in cures asks
    /// for one). It ends the credential checks, whose time it records.
    /// </summary>
    private RequestVerdict Authorize(HttpContext context, RoutePolicy policy, in RequestVerdict verdict, long started)
    {
        if (policy.Anonymous)
        {
            return verdict;
        }
        var refusal = verdict.Refusal is null
            ? RouteAuthorization.Check(context, policy, verdict.Identity!) ?? CheckOrg(context, policy, verdict.Identity!)
                ?? policy.StepUp?.Check(verdict.Identity!, clock.UnixSeconds)
            : null; // already refused: nobody to authorize
        metrics.AuthenticationTime(started);
        return refusal is null ? verdict : new RequestVerdict(verdict.Identity, refusal);
    }

    private static EdgeError? CheckOrg(HttpContext context, RoutePolicy policy, EdgeIdentity identity) =>
        policy.OrgRouteValue is not null
        && (identity.Org is null || context.Request.RouteValues[policy.OrgRouteValue] is not string routeOrg
            || !string.Equals(routeOrg, identity.Org, StringComparison.Ordinal))
            ? EdgeError.OrgMismatch
            : null;

    /// <summary>
    /// Rate limit, after authorization so refused credentials never spend a caller's quota: an admitted request spends
    /// its caller's (anonymous: its address's) quota; a refusal on a limited route spends the client address's failure
    /// bucket instead, unless it is a genuine credential's state (expired, revoked, …: <see cref="FailureCharges"/>),
    /// which only reports the bucket. Either way the response carries the bucket's RateLimit headers.
    /// </summary>
    private RequestVerdict RateLimit(HttpContext context, RoutePolicy policy, in RequestVerdict verdict)
    {
        RateLimitDecision decision;
        var admitted = verdict.Refusal is null
            ? rateLimiter.Admit(context, policy, verdict.Identity, out decision)
            : rateLimiter.AdmitFailure(context, policy, verdict.Identity, FailureCharges.SpendsRouteFailureBucket(verdict.Refusal), out decision);
        if (decision.Limit is { } limit && (!admitted || verdict.Refusal is null))
        {
            // A refused credential's failure bucket counts only when it turns the refusal into a 429.
            metrics.Stages.RateLimit(limit.Name, admitted);
        }
        return admitted ? verdict : new RequestVerdict(verdict.Identity, EdgeError.RateLimited, decision.RetryAfterSeconds);
    }

    /// <summary>An upgrade (WebSocket) is tracked so it is closed when its credential expires or is revoked; refused when the registry is full.</summary>
    private RequestVerdict TrackUpgrade(HttpContext context, in RequestVerdict verdict) =>
        verdict is { Refusal: null, Identity: { } identity } && !liveConnections.TryTrack(context, identity)
            ? new RequestVerdict(identity, LiveConnections.Full)
            : verdict;

    private Task RefuseAsync(HttpContext context, RequestVerdict verdict)
    {
        metrics.Decision(verdict.Refusal!.Code);
        return EdgeResponses.WriteAsync(context, verdict.Refusal, verdict.RetryAfterSeconds);
    }

    /// <summary>
    /// Identity headers: the admitted caller is handed to YARP's request transform, which writes the trusted
    /// <c>X-Authio-*</c> and claim headers into the upstream request (<see cref="IdentityForwarding"/>), and
    /// Authorization is dropped unless the route forwards it. A forward-auth check forwards nothing: its answer carries
    /// the headers (<see cref="ForwardAuth.ForwardAuthAnswer"/>).
    /// </summary>
    private void HandOverIdentity(HttpContext context, RoutePolicy policy, EdgeIdentity? identity, bool forwardAuth)
    {
        if (identity is not null)
        {
            metrics.Decision(OkCode);
        }
        if (forwardAuth)
        {
            return;
        }
        if (identity is not null)
        {
            IdentityForwarding.Admit(context, identity);
        }
        // An API key is a long-lived secret: it never leaves the edge, whatever the route says.
        if (!policy.ForwardAuthorization || identity?.KeyId is not null)
        {
            context.Request.Headers.Authorization = default;
        }
    }

    /// <summary>
    /// What the stages so far decided for one request: the caller (null: anonymous, or not authenticated) and the
    /// refusal to answer with (null: go on). A struct: passing it from stage to stage allocates nothing.
    /// </summary>
    private readonly struct RequestVerdict(EdgeIdentity? identity, EdgeError? refusal, long retryAfterSeconds = 0)
    {
        public static RequestVerdict Anonymous => default;

        public EdgeIdentity? Identity { get; } = identity;
        public EdgeError? Refusal { get; } = refusal;
        /// <summary>A rate limit's Retry-After (the writer makes any 429 say at least 1 s).</summary>
        public long RetryAfterSeconds { get; } = retryAfterSeconds;

        public static RequestVerdict From(in AuthenticationOutcome decided) => new(decided.Identity, decided.Error);
    }
}
