using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Diagnostics;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Mfa;
using Authio.ControlPlane.Passwords;
using Authio.ControlPlane.RateLimiting;
using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Tokens;
using Authio.ControlPlane.Users;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Auth;

/// <summary>
/// A password sign-in's outcome: a token pair (<paramref name="EnrollmentRequired"/>: the session is limited to MFA
/// enrolment), or, when the user has a second factor, the first step of a two-step sign-in (<paramref name="Mfa"/>).
/// </summary>
internal sealed record SignInResult(TokenPair? Tokens, MfaPending? Mfa, bool EnrollmentRequired);

/// <summary>
/// Email + password sign-in with lockout and a per-account rate limit. Unknown email and wrong password look the same,
/// in body and in time (bcrypt runs against a dummy hash); lockouts and rate-limited attempts look the same for a known
/// and an unknown email.
/// </summary>
internal sealed partial class LoginService(
    Db db, UserStore users, Orgs.OrgStore orgs, LoginFailures failures, PasswordHasher hasher, SessionService sessions, MfaSignIn mfa, AuditLog audit, AuthRateLimiter limiter,
    Risk.SignInRisk risk, ControlPlaneMetrics metrics, ControlPlaneOptions options, TimeProvider time, ILogger<LoginService> logger)
{
    /// <summary>RFC 5321 caps a path at 256 octets; 320 (64 + 1 + 255) is the common upper bound for an address.</summary>
    public const int MaxEmailBytes = 320;

    public async Task<Result<SignInResult>> LoginAsync(string? email, string? password, string? orgId, ClientInfo client, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrEmpty(password))
        {
            metrics.SignIn(SignInOutcomes.Invalid);
            return Failure.Invalid(string.IsNullOrWhiteSpace(email) ? "email" : "password", "is required.", "email and password are required.");
        }
        // Checked on the raw input before anything else (no rate-limit bucket, lookup or bcrypt for junk).
        if (System.Text.Encoding.UTF8.GetByteCount(email) > MaxEmailBytes)
        {
            metrics.SignIn(SignInOutcomes.Invalid);
            return Failure.Invalid("email", $"must be at most {MaxEmailBytes} bytes (UTF-8).");
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var normalized = UserStore.NormalizeEmail(email);
        var failedEntry = new AuditEntry(orgId ?? AuditLog.SystemOrg, AuditEvents.LoginFailed, "failure")
        {
            Email = normalized, Ip = client.Ip, UserAgent = client.UserAgent,
        };
        // Keyed by the email as typed (normalized), before looking the user up: the limit and its refusal are the same
        // whether or not the account exists. A refusal runs no bcrypt and, but for the first one per period (audited),
        // touches no table.
        var limited = await limiter.CheckAccountAsync(LimitedAction.SignIn, normalized, ct);
        if (!limited.Admitted)
        {
            return await RateLimitedAsync(normalized, orgId, failedEntry, limited, ct);
        }

        // Lockout is kept per email key, for unknown emails exactly as for accounts: the same failures give the same
        // 401s, the same 423 and the same lock duration, so a lock never reveals whether an account exists.
        var emailKey = failures.KeyOf(normalized);
        var user = await users.FindByEmailAsync(normalized, ct);
        var lockState = await users.LoginFailureAsync(emailKey, ct);
        var userOrgs = user is null ? new List<(string OrgId, bool Active)>() : await users.OrgsOfAsync(user.Id, ct);
        // Unknown emails cannot be attributed to an org the caller has proven membership of: the internal chain.
        var auditOrgs = AuditOrgs(userOrgs, orgId);
        if (user is not null)
        {
            failedEntry = failedEntry with { UserId = user.Id };
        }

        if (lockState?.LockedUntil is { } until && until > now)
        {
            await RecordInAsync(auditOrgs, failedEntry with { Details = new() { ["reason"] = "locked" } }, ct);
            metrics.SignIn(SignInOutcomes.Locked);
            return Locked(until);
        }
        if (user is null)
        {
            hasher.VerifyDummy(password);
            return await RecordFailureAsync(emailKey, null, password, now, failedEntry, auditOrgs, SignInOutcomes.UnknownUser, ct);
        }
        // bcrypt ignores bytes past 72, so a longer password could match a stored 72-byte one by its prefix alone.
        var tooLong = System.Text.Encoding.UTF8.GetByteCount(password) > PasswordPolicy.MaxBytes;
        var passwordOk = tooLong ? hasher.VerifyDummy(password) : hasher.Verify(password, user.PasswordHash);
        if (!passwordOk)
        {
            return await RecordFailureAsync(emailKey, user.Id, password, now, failedEntry, auditOrgs, SignInOutcomes.BadPassword, ct);
        }

        var active = userOrgs.Where(o => o.Active).Select(o => o.OrgId).ToList();
        string chosen;
        if (orgId is not null)
        {
            if (!userOrgs.Any(o => o.OrgId == orgId))
            {
                metrics.SignIn(SignInOutcomes.Denied);
                return await FailAsync(failedEntry, auditOrgs, "not_member", ct);
            }

            chosen = orgId;
        }
        else if (active.Count > 1)
        {
            // The password is verified: naming the caller's own orgs tells them nothing they could not see once signed in,
            // and tells a script (or a person) exactly which org_id to send.
            metrics.SignIn(SignInOutcomes.Invalid);
            return Failure.Invalid("org_id", $"is required: this user belongs to several organizations: {await DescribeAsync(active, ct)}. Send \"org_id\" with one of them.");
        }
        else if (active.Count == 1)
        {
            chosen = active[0];
        }
        else
        {
            metrics.SignIn(SignInOutcomes.Denied);
            return await FailAsync(failedEntry, auditOrgs, "deactivated", ct);
        }

        var member = await db.InOrgAsync(chosen, (c, tx) => UserStore.MemberAsync(c, tx, chosen, user.Id), ct);
        if (member is null || member.Active != 1)
        {
            metrics.SignIn(SignInOutcomes.Denied);
            return await FailAsync(failedEntry, [chosen], "deactivated", ct);
        }

        // The password is right: a user with a second factor now gets the first step of a two-step sign-in (no tokens
        // yet); one whose org requires a factor they have not enrolled gets a session limited to enrolment.
        var (step, methods) = await mfa.DecideAsync(chosen, user.Id, member.Role, ct);
        if (step == SecondStep.SecondFactor)
        {
            var pending = await mfa.BeginAsync(chosen, user.Id, methods, client, ct);
            metrics.SignIn(SignInOutcomes.MfaRequired);
            return new SignInResult(null, pending, false);
        }
        // No second factor: the password is all there is, so a risky sign-in above Risk:StepUpAbove stops here (an
        // enrolment-limited session would let whoever holds the password enrol their own factor). Nothing of it is
        // remembered, so trying again from the same place stays just as risky.
        var assessment = await risk.AssessAsync(user.Id, client, Risk.SignInRisk.LockEndedRecently(lockState?.LockedUntil, now), ct);
        if (risk.NeedsSecondFactor(assessment))
        {
            Log.StepUpRefused(logger, chosen, user.Id, assessment.Score);
            metrics.SignIn(SignInOutcomes.Denied);
            await risk.RefusedAsync(chosen, user.Id, user.Email, client, assessment, ct);
            await audit.RecordAsync(failedEntry with { OrgId = chosen, Details = new() { ["reason"] = "step_up_required" } }, ct);
            return new Failure(401, ErrorCodes.SignInStepUpRequired, "Second factor required",
                "This sign-in does not look like this account's usual ones and needs a second factor, which the account does not have. " +
                "Sign in from a device and network you have used before, or ask an administrator.");
        }
        // Failures are cleared only by a complete sign-in: a right password alone must not reset the count a guesser of
        // second factors is running up.
        if (lockState is not null)
        {
            await users.ClearLoginFailuresAsync(emailKey, ct);
        }

        if (await sessions.StartAsync(chosen, user.Id, client, SignInContext.Password(time.GetUtcNow().ToUnixTimeSeconds()), ct) is not { } pair)
        {
            metrics.SignIn(SignInOutcomes.Denied);
            return await FailAsync(failedEntry, [chosen], "deactivated", ct);
        }

        Log.Succeeded(logger, chosen, user.Id);
        await audit.RecordAsync(new AuditEntry(chosen, AuditEvents.LoginSucceeded)
        {
            UserId = user.Id, Email = user.Email, SessionId = pair.SessionId, Ip = client.Ip, UserAgent = client.UserAgent,
        }, ct);
        await risk.CompletedAsync(chosen, user.Id, user.Email, pair.SessionId, client, assessment, null, ct);
        metrics.SignIn(SignInOutcomes.Success);
        return new SignInResult(pair, null, step == SecondStep.MustEnrol);
    }

    /// <summary><c>org_… (Name), org_… (Name)</c>, oldest org first.</summary>
    private async Task<string> DescribeAsync(List<string> orgIds, CancellationToken ct)
    {
        var found = new List<Orgs.OrgRow>(orgIds.Count);
        foreach (var id in orgIds)
        {
            found.Add(await orgs.GetAsync(id, ct) ?? new Orgs.OrgRow { Id = id, Name = "?" });
        }
        return string.Join(", ", found.OrderBy(o => o.CreatedAt).ThenBy(o => o.Id, StringComparer.Ordinal).Select(o => $"{o.Id} ({o.Name})"));
    }

    /// <summary>Failures show up in every org the person belongs to (or just the one they named), so each org's admins see attacks on their member.</summary>
    private static IReadOnlyList<string> AuditOrgs(List<(string OrgId, bool Active)> userOrgs, string? orgId) =>
        orgId is not null && userOrgs.Any(o => o.OrgId == orgId) ? [orgId]
            : userOrgs.Count > 0 ? userOrgs.Select(o => o.OrgId).ToList() : [AuditLog.SystemOrg];

    /// <summary>
    /// The 429 for a sign-in over the per-account limit. The first refusal per account and period is audited as a
    /// failed sign-in (reason <c>rate_limited</c>) where other failures for that email go; later ones only count.
    /// </summary>
    private async Task<Result<SignInResult>> RateLimitedAsync(string email, string? orgId, AuditEntry entry, RateLimitVerdict verdict, CancellationToken ct)
    {
        metrics.SignIn(SignInOutcomes.RateLimited);
        if (verdict.FirstRefusal)
        {
            var details = new Dictionary<string, string?> { ["reason"] = "rate_limited", ["retry_after_seconds"] = verdict.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            if (await users.FindByEmailAsync(email, ct) is { } user)
            {
                await RecordInAsync(AuditOrgs(await users.OrgsOfAsync(user.Id, ct), orgId), entry with { UserId = user.Id, Details = details }, ct);
            }
            else
            {
                await audit.RecordAsync(entry with { OrgId = AuditLog.SystemOrg, Details = details }, ct);
            }
        }
        return RateLimitEndpoints.Refused(LimitedAction.SignIn, verdict);
    }

    private async Task RecordInAsync(IReadOnlyList<string> orgs, AuditEntry entry, CancellationToken ct)
    {
        foreach (var org in orgs)
        {
            await audit.RecordAsync(entry with { OrgId = org }, ct);
        }
    }

    private async Task<Result<SignInResult>> FailAsync(AuditEntry entry, IReadOnlyList<string> orgs, string reason, CancellationToken ct)
    {
        Log.Failed(logger, reason);
        await RecordInAsync(orgs, entry with { Details = new() { ["reason"] = reason } }, ct);
        return Failure.Unauthorized("Invalid email or password.");
    }

    private async Task<Result<SignInResult>> RecordFailureAsync(string emailKey, string? userId, string password, long now, AuditEntry entry, IReadOnlyList<string> orgs,
        string reason, CancellationToken ct)
    {
        // Unknown emails and wrong passwords are told apart here only: the caller sees the same 401 for both.
        metrics.SignIn(reason);
        await risk.FailedAsync(emailKey, userId is not null, password, orgs, new ClientInfo(entry.Ip, entry.UserAgent), ct);
        var l = options.Lockout;
        var count = await users.AddLoginFailureAsync(emailKey, now, (long)l.Window.TotalMilliseconds, ct);
        if (count >= l.MaxFailures)
        {
            var until = now + (long)l.Duration.TotalMilliseconds;
            await users.LockLoginAsync(emailKey, now, until, ct);
            metrics.Lockout();
            if (userId is null)
            {
                Log.LockedUnknown(logger);
            }
            else
            {
                Log.Locked(logger, userId);
            }

            await RecordInAsync(orgs, entry with { Details = new() { ["reason"] = reason } }, ct);
            await RecordInAsync(orgs, entry with { Event = AuditEvents.AccountLocked, Details = new() { ["locked_until"] = DateTimeOffset.FromUnixTimeMilliseconds(until).ToString("O") } }, ct);
            return Locked(until);
        }
        return await FailAsync(entry, orgs, reason, ct);
    }

    private Failure Locked(long until)
    {
        var seconds = Math.Max(1, (until - time.GetUtcNow().ToUnixTimeMilliseconds() + 999) / 1000);
        return Failure.Locked($"Too many failed sign-in attempts. Try again in {seconds} seconds.");
    }
}
