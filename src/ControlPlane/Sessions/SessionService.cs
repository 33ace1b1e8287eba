using System.Data.Common;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Diagnostics;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Orgs;
using Authio.ControlPlane.RateLimiting;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Tokens;
using Authio.ControlPlane.Users;

namespace Authio.ControlPlane.Sessions;

internal sealed record TokenPair(string AccessToken, string RefreshToken, int ExpiresIn, string SessionId);

/// <summary>Starting, refreshing and ending sessions.</summary>
internal sealed partial class SessionService(
    Db db, SessionStore store, OrgStore orgs, TokenIssuer issuer, AuditLog audit, AuthRateLimiter limiter, Risk.SignInRisk risk, ControlPlaneOptions options,
    ControlPlaneMetrics metrics, TimeProvider time, ILogger<SessionService> logger)
{
    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// A new session after a successful sign-in; ends the oldest sessions beyond the per-user limit. Null when the user
    /// stopped being an active member meanwhile. The token carries the role as committed when the session starts (read
    /// under the membership lock a role change or deactivation takes), not the one sign-in read earlier.
    /// </summary>
    public async Task<TokenPair?> StartAsync(string orgId, string userId, ClientInfo client, SignInContext signIn, CancellationToken ct)
    {
        var now = Now;
        var org = await orgs.GetAsync(orgId, ct);
        var ttl = orgs.AccessTtl(org);
        var sid = Ids.New("ses");
        var refresh = RefreshTokens.New(orgId);
        var started = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            if (await SessionStore.LockMemberAsync(c, tx, orgId, userId) is not { Active: true } member)
            {
                return null;
            }

            var evicted = await store.EndOldestAsync(c, tx, orgId, userId, options.Sessions.MaxPerUser - 1, EndReasons.SessionLimit, now);
            await SessionStore.InsertAsync(c, tx, orgId, sid, userId, now, client, now + (long)ttl.TotalMilliseconds, signIn);
            await InsertRefreshAsync(c, tx, orgId, sid, refresh, now);
            return new
            {
                member.Role, Teams = await UserStore.TeamsOfAsync(c, tx, orgId, userId), Projects = await UserStore.ProjectRolesOfAsync(c, tx, orgId, userId),
                Evicted = evicted, NotBefore = await SessionStore.UserNotBeforeAsync(c, tx, orgId, userId, now),
            };
        }, ct);
        if (started is null)
        {
            return null;
        }

        foreach (var old in started.Evicted)
        {
            await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.SessionEnded) { UserId = userId, SessionId = old, Ip = client.Ip, UserAgent = client.UserAgent, Details = new() { ["reason"] = EndReasons.SessionLimit } }, ct);
        }

        var access = await issuer.IssueAsync(orgId, userId, sid, started.Role, started.Teams, ttl, ct, started.Projects, started.NotBefore, signIn);
        return new TokenPair(access.Token, refresh, access.ExpiresInSeconds, sid);
    }

    private enum RefreshOutcome { Ok, Invalid, Reused, Idle, RateLimited }

    private sealed record RefreshState(RefreshOutcome Outcome, SessionRow? Session = null, string? Role = null, List<string>? Teams = null, bool Ended = false, Dictionary<string, string>? Projects = null,
        RateLimitVerdict Limit = default, long? NotBefore = null);

    /// <summary>Rotates a refresh token. Presenting an already-rotated one ends the whole session (family).</summary>
    public async Task<Result<TokenPair>> RefreshAsync(string? refreshToken, ClientInfo client, CancellationToken ct)
    {
        var orgId = RefreshTokens.OrgOf(refreshToken);
        if (orgId is null || await orgs.GetAsync(orgId, ct) is not { } org)
        {
            metrics.Refresh(RefreshOutcomes.Invalid);
            return Failure.Unauthorized("The refresh token is invalid.");
        }

        var now = Now;
        var hash = RefreshTokens.Hash(refreshToken!);
        var ttl = orgs.AccessTtl(org);
        var idle = (long)orgs.IdleTimeout(org).TotalMilliseconds;
        var graceMs = (long)options.Tokens.RefreshReuseGrace.TotalMilliseconds;
        var next = RefreshTokens.New(orgId);
        var state = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            // Serialised per session with every ending (see SessionStore's lock order): the token row, then the session
            // row, are locked before anything is read, so an ending that committed first is seen here, and one that comes
            // later waits for this transaction and then ends the session (its sid revocation covers the token minted below).
            var rt = await SessionStore.LockRefreshTokenAsync(c, tx, orgId, hash);
            if (rt.SessionId is null)
            {
                return new RefreshState(RefreshOutcome.Invalid);
            }

            var s = await store.LockAsync(c, tx, orgId, rt.SessionId);
            if (s is null || rt.ExpiresAt <= now)
            {
                return new RefreshState(RefreshOutcome.Invalid);
            }

            var inGrace = rt.RotatedAt is { } r && graceMs > 0 && now - r <= graceMs;
            if (rt.RotatedAt is not null && !inGrace)
            {
                return new RefreshState(RefreshOutcome.Reused, s, Ended: await store.EndAsync(c, tx, orgId, s.Id, EndReasons.RefreshReuse, now));
            }

            if (s.EndedAt is not null)
            {
                return new RefreshState(RefreshOutcome.Invalid, s);
            }
            // Per account = the user the token belongs to, known only after this lookup (the token changes on every
            // rotation, so a bucket per token would never fill). Checked after reuse detection, which must never be
            // held back, and before anything changes: a refused refresh leaves the presented token usable.
            var limited = await limiter.CheckAccountAsync(LimitedAction.Refresh, s.UserId, ct);
            if (!limited.Admitted)
            {
                return new RefreshState(RefreshOutcome.RateLimited, s, Limit: limited);
            }

            if (now - s.LastSeenAt > idle)
            {
                await store.EndAsync(c, tx, orgId, s.Id, EndReasons.IdleTimeout, now);
                return new RefreshState(RefreshOutcome.Idle, s);
            }
            var member = await UserStore.MemberAsync(c, tx, orgId, s.UserId);
            if (member is null || member.Active != 1)
            {
                return new RefreshState(RefreshOutcome.Invalid, s);
            }

            if (!inGrace)
            {
                var rotated = await SessionStore.MarkRotatedAsync(c, tx, orgId, hash, now);
                // Lost a race with another use of the same token: reuse, unless a grace window exists for exactly this.
                if (!rotated && graceMs == 0)
                {
                    return new RefreshState(RefreshOutcome.Reused, s, Ended: await store.EndAsync(c, tx, orgId, s.Id, EndReasons.RefreshReuse, now));
                }
            }
            // Conditional on the session still being live (it is locked, so this is belt and braces).
            var touched = await SessionStore.TouchLiveAsync(c, tx, orgId, s.Id, now, client, now + (long)ttl.TotalMilliseconds);
            if (!touched)
            {
                throw new InvalidOperationException("A locked live session changed under its refresh.");
            }

            await InsertRefreshAsync(c, tx, orgId, s.Id, next, now);
            return new RefreshState(RefreshOutcome.Ok, s, member.Role, await UserStore.TeamsOfAsync(c, tx, orgId, s.UserId),
                Projects: await UserStore.ProjectRolesOfAsync(c, tx, orgId, s.UserId), NotBefore: await SessionStore.UserNotBeforeAsync(c, tx, orgId, s.UserId, now));
        }, ct);

        var session = state.Session;
        var entry = new AuditEntry(orgId, AuditEvents.TokenRefreshed) { UserId = session?.UserId, SessionId = session?.Id, Ip = client.Ip, UserAgent = client.UserAgent };
        metrics.Refresh(state.Outcome switch
        {
            RefreshOutcome.Ok => RefreshOutcomes.Success,
            RefreshOutcome.Reused => RefreshOutcomes.Reused,
            RefreshOutcome.Idle => RefreshOutcomes.Idle,
            RefreshOutcome.RateLimited => RefreshOutcomes.RateLimited,
            _ => RefreshOutcomes.Invalid,
        });
        switch (state.Outcome)
        {
            case RefreshOutcome.Reused:
                Log.RefreshReuse(logger, orgId, session!.Id);
                await audit.RecordAsync(entry with { Event = AuditEvents.RefreshReuseDetected, Outcome = "failure" }, ct);
                await risk.RefreshReusedAsync(orgId, session.UserId, session.Id, client, ct);
                if (state.Ended)
                {
                    await audit.RecordAsync(entry with { Event = AuditEvents.SessionEnded, Details = new() { ["reason"] = EndReasons.RefreshReuse } }, ct);
                }

                return Failure.Unauthorized("The refresh token was already used; the session has been revoked.");
            case RefreshOutcome.Idle:
                await audit.RecordAsync(entry with { Event = AuditEvents.SessionEnded, Details = new() { ["reason"] = EndReasons.IdleTimeout } }, ct);
                return Failure.Unauthorized("The session expired after inactivity.");
            case RefreshOutcome.RateLimited:
                return RateLimitEndpoints.Refused(LimitedAction.Refresh, state.Limit);
            case RefreshOutcome.Invalid:
                if (session is not null)
                {
                    await audit.RecordAsync(entry with { Outcome = "failure" }, ct);
                }

                return Failure.Unauthorized("The refresh token is invalid.");
        }
        // Refresh keeps how and when the user authenticated: only a new sign-in or a step-up changes it.
        var signIn = SignInContext.FromRow(session!.Amr, session.Acr, session.AuthTime, session.CreatedAt);
        var access = await issuer.IssueAsync(orgId, session.UserId, session.Id, state.Role!, state.Teams!, ttl, ct, state.Projects, state.NotBefore, signIn);
        await audit.RecordAsync(entry, ct);
        return new TokenPair(access.Token, next, access.ExpiresInSeconds, session.Id);
    }

    /// <summary>
    /// Step-up: raises a live session's authentication context with the factor just verified (<paramref name="raise"/>
    /// maps the stored context to the new one) and mints an access token carrying it. The refresh token is unchanged:
    /// later refreshes carry the raised context. Null when the session is not the user's or no longer live.
    /// </summary>
    public async Task<(IssuedAccessToken Token, SignInContext SignIn)?> RaiseAsync(string orgId, string sessionId, string userId, Func<SignInContext, SignInContext> raise,
        CancellationToken ct)
    {
        var now = Now;
        var ttl = orgs.AccessTtl(await orgs.GetAsync(orgId, ct));
        var raised = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            // The membership lock first (the lock order of session endings), then the session row.
            if (await SessionStore.LockMemberAsync(c, tx, orgId, userId) is not { Active: true } member)
            {
                return null;
            }

            var s = await store.LockAsync(c, tx, orgId, sessionId);
            if (s is null || s.UserId != userId || s.EndedAt is not null)
            {
                return null;
            }

            var signIn = raise(SignInContext.FromRow(s.Amr, s.Acr, s.AuthTime, s.CreatedAt));
            if (!await SessionStore.RaiseAsync(c, tx, orgId, sessionId, signIn, now, now + (long)ttl.TotalMilliseconds))
            {
                return null;
            }

            return new
            {
                member.Role, SignIn = signIn, Teams = await UserStore.TeamsOfAsync(c, tx, orgId, userId),
                Projects = await UserStore.ProjectRolesOfAsync(c, tx, orgId, userId), NotBefore = await SessionStore.UserNotBeforeAsync(c, tx, orgId, userId, now),
            };
        }, ct);
        if (raised is null)
        {
            return null;
        }

        var access = await issuer.IssueAsync(orgId, userId, sessionId, raised.Role, raised.Teams, ttl, ct, raised.Projects, raised.NotBefore, raised.SignIn);
        return (access, raised.SignIn);
    }

    /// <summary>Ends one session; false when it does not exist in the org or had already ended.</summary>
    public async Task<bool> EndAsync(string orgId, string sessionId, string reason, string eventType, string? actorId, ClientInfo client, CancellationToken ct)
    {
        var now = Now;
        var userId = await db.InOrgAsync(orgId, async (c, tx) =>
            await store.EndAsync(c, tx, orgId, sessionId, reason, now) ? (await SessionStore.GetAsync(c, tx, orgId, sessionId))!.UserId : null, ct);
        if (userId is null)
        {
            return false;
        }

        await audit.RecordAsync(new AuditEntry(orgId, eventType)
        {
            ActorId = actorId, UserId = userId, SessionId = sessionId, Ip = client.Ip, UserAgent = client.UserAgent,
            Details = new() { ["reason"] = reason },
        }, ct);
        return true;
    }

    /// <summary>Ends every session of the user in the org (a <c>sid</c> revocation each and one <c>user_not_before</c>).</summary>
    public async Task<int> EndAllAsync(string orgId, string userId, string reason, string? actorId, ClientInfo client, CancellationToken ct)
    {
        var now = Now;
        var ended = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            // The membership lock first: a sign-in starting a session for this user waits, or commits before and is ended here.
            await SessionStore.LockMemberAsync(c, tx, orgId, userId);
            return await store.EndAllAsync(c, tx, orgId, userId, reason, now);
        }, ct);
        await AuditForceLogoutAsync(orgId, userId, reason, actorId, client, ended.Count, ct);
        return ended.Count;
    }

    /// <summary>The <c>force_logout</c> event of a user-wide ending (also for endings done inside another service's transaction).</summary>
    public Task AuditForceLogoutAsync(string orgId, string userId, string reason, string? actorId, ClientInfo client, int ended, CancellationToken ct) =>
        audit.RecordAsync(new AuditEntry(orgId, AuditEvents.ForceLogout)
        {
            ActorId = actorId, UserId = userId, Ip = client.Ip, UserAgent = client.UserAgent,
            Details = new() { ["reason"] = reason, ["sessions_ended"] = ended.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        }, ct);

    /// <summary>Ends all of the user's sessions except <paramref name="keepSessionId"/>, each with its own <c>sid</c> revocation.</summary>
    public async Task<int> EndOthersAsync(string orgId, string userId, string? keepSessionId, string reason, string? actorId, ClientInfo client, CancellationToken ct)
    {
        var now = Now;
        var ended = await db.InOrgAsync(orgId, (c, tx) => store.EndOthersAsync(c, tx, orgId, userId, keepSessionId, reason, now), ct);
        foreach (var sid in ended)
        {
            await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.SessionEnded)
            {
                ActorId = actorId, UserId = userId, SessionId = sid, Ip = client.Ip, UserAgent = client.UserAgent, Details = new() { ["reason"] = reason },
            }, ct);
        }

        return ended.Count;
    }

    public Task<List<SessionRow>> ListLiveAsync(string orgId, string userId, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => SessionStore.LiveOfUserAsync(c, tx, orgId, userId), ct);

    private Task InsertRefreshAsync(DbConnection c, DbTransaction tx, string orgId, string sid, string token, long now) =>
        SessionStore.InsertRefreshTokenAsync(c, tx, orgId, RefreshTokens.Hash(token), sid, now, now + (long)options.Tokens.RefreshTokenTtl.TotalMilliseconds);
}
