using System.Text.Json;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Auth;
using Authio.ControlPlane.Diagnostics;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.RateLimiting;
using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.SigningKeys;
using Authio.ControlPlane.Users;
using Authio.Shared.Tokens;

namespace Authio.ControlPlane.Mfa;

/// <summary>A second factor as presented: <c>totp</c> or <c>recovery_code</c> with <c>code</c>, or <c>passkey</c> with a challenge and assertion.</summary>
internal sealed record MfaProof(string? Method, string? Code, string? ChallengeId, JsonElement? Assertion);

/// <summary>A verified second factor: the method, its <c>amr</c> and the level it gives.</summary>
internal sealed record VerifiedFactor(string Method, string Amr, string Acr);

internal static class MfaMethods
{
    public const string Totp = "totp";
    public const string RecoveryCode = "recovery_code";
    public const string Passkey = "passkey";
}

/// <summary>
/// TOTP enrolment and removal, recovery codes, and the verification of a second factor shared by the sign-in's second
/// step and step-up: per-account rate limit, lockout (a wrong factor counts like a wrong password, on the same email
/// key), replay refusal, audit.
/// </summary>
internal sealed partial class MfaService(
    MfaStore store, UserStore users, LoginFailures failures, KeySealer sealer, MasterKey master, SessionService sessions, MfaPolicyCache policies,
    AuditLog audit, AuthRateLimiter limiter, ControlPlaneMetrics metrics, ControlPlaneOptions options, TimeProvider time, IServiceProvider services,
    ILogger<MfaService> logger)
{
    private const string TotpSecretKind = "totp";
    private readonly byte[] _recoveryKey = master.Derive("mfa-recovery-codes/v1");

    /// <summary>The passkey ceremonies when a passkey implementation is registered; null = passkeys are not offered.</summary>
    public IPasskeyCeremonies? Passkeys => services.GetService<IPasskeyCeremonies>();

    /// <summary>The second factors the user can sign in with, in the order a client should offer them.</summary>
    public async Task<List<string>> MethodsAsync(string orgId, string userId, CancellationToken ct)
    {
        var methods = new List<string>();
        if (Passkeys is { } passkeys && await passkeys.HasPasskeyAsync(userId, ct))
        {
            methods.Add(MfaMethods.Passkey);
        }

        if (await store.TotpAsync(orgId, userId, ct) is { ConfirmedAt: not null })
        {
            methods.Add(MfaMethods.Totp);
            if (await store.RecoveryCodesLeftAsync(orgId, userId, ct) > 0)
            {
                methods.Add(MfaMethods.RecoveryCode);
            }
        }
        return methods;
    }

    public async Task<MfaStatusView> StatusAsync(Caller caller, CancellationToken ct)
    {
        var totp = await store.TotpAsync(caller.OrgId, caller.UserId, ct);
        var policy = await policies.GetAsync(caller.OrgId, ct);
        return new MfaStatusView(totp?.ConfirmedAt is not null, totp is { ConfirmedAt: null },
            totp?.ConfirmedAt is not null ? await store.RecoveryCodesLeftAsync(caller.OrgId, caller.UserId, ct) : 0,
            Passkeys is { } p && await p.HasPasskeyAsync(caller.UserId, ct), policy, MfaPolicy.Requires(policy, caller.Role), caller.Acr);
    }

    /// <summary>Starts (or restarts) TOTP enrolment: a new secret, unconfirmed until a first valid code.</summary>
    public async Task<Result<TotpEnrollmentView>> EnrolTotpAsync(Caller caller, CancellationToken ct)
    {
        if (await policies.GetAsync(caller.OrgId, ct) == MfaPolicy.Off)
        {
            return Failure.Forbidden("Your organization has turned MFA enrolment off (mfa policy \"off\").");
        }

        if (await users.GetInOrgAsync(caller.OrgId, caller.UserId, ct) is not { } user)
        {
            return Failure.NotFound("User");
        }

        var secret = OtpNet.KeyGeneration.GenerateRandomKey(TotpCodes.SecretBytes);
        var sealedSecret = sealer.SealUserSecret(TotpSecretKind, caller.UserId, secret);
        if (!await store.PutPendingTotpAsync(caller.OrgId, caller.UserId, sealedSecret, Now, ct))
        {
            return Failure.Conflict("An authenticator is already enrolled: remove it first (DELETE /v1/users/me/mfa/totp).");
        }

        var uri = TotpCodes.Uri(secret, "Authio", user.Email);
        var (svg, png) = TotpCodes.Qr(uri);
        return new TotpEnrollmentView(TotpCodes.Base32(secret), uri, svg, png);
    }

    /// <summary>
    /// Confirms enrolment with a first valid code: issues the recovery codes (shown this once) and raises the caller's
    /// session to MFA (the password and the code have both just been proven), returning an access token that says so.
    /// </summary>
    public async Task<Result<TotpConfirmationView>> ConfirmTotpAsync(Caller caller, string? code, CancellationToken ct)
    {
        var row = await store.TotpAsync(caller.OrgId, caller.UserId, ct);
        if (row is null || row.ConfirmedAt is not null)
        {
            return Failure.Conflict(row is null ? "No enrolment in progress: POST /v1/users/me/mfa/totp first." : "The authenticator is already confirmed.");
        }

        var limited = await LimitAsync(caller.OrgId, caller.UserId, ct);
        if (limited is not null)
        {
            return limited;
        }

        var secret = sealer.UnsealUserSecret(TotpSecretKind, caller.UserId, row.SealedSecret);
        if (TotpCodes.Normalize(code) is not { } digits || TotpCodes.Match(secret, digits, time.GetUtcNow()) is not { } step)
        {
            await AuditFailureAsync(caller.OrgId, caller.UserId, caller.SessionId, caller.Client, MfaMethods.Totp, "enrolment_code_invalid", ct);
            return MfaFailures.CodeInvalid(400);
        }

        var codes = RecoveryCodes.New();
        if (!await store.ConfirmTotpAsync(caller.OrgId, caller.UserId, step, codes.Select(c => HashRecovery(caller.UserId, c)).ToList(), Now, ct))
        {
            return Failure.Conflict("The authenticator is already confirmed.");
        }

        Log.TotpEnrolled(logger, caller.OrgId, caller.UserId);
        await audit.RecordAsync(Entry(caller, AuditEvents.MfaTotpEnrolled) with { Details = new() { ["recovery_codes"] = RecoveryCodes.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) } }, ct);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var raised = await sessions.RaiseAsync(caller.OrgId, caller.SessionId, caller.UserId, s => s.Raise("otp", AuthenticationLevels.MultiFactor, now), ct);
        return new TotpConfirmationView(codes, raised?.Token.Token, raised?.Token.ExpiresInSeconds, raised?.SignIn.Acr);
    }

    /// <summary>Removes the authenticator and the recovery codes (the endpoint requires a recent MFA sign-in).</summary>
    public async Task<Failure?> RemoveTotpAsync(Caller caller, CancellationToken ct)
    {
        if (!await store.RemoveTotpAsync(caller.OrgId, caller.UserId, ct))
        {
            return Failure.NotFound("Authenticator");
        }

        Log.TotpRemoved(logger, caller.OrgId, caller.UserId);
        await audit.RecordAsync(Entry(caller, AuditEvents.MfaTotpRemoved), ct);
        return null;
    }

    /// <summary>A new set of 10 recovery codes; every earlier code stops working.</summary>
    public async Task<Result<RecoveryCodesView>> RegenerateRecoveryCodesAsync(Caller caller, CancellationToken ct)
    {
        if (await store.TotpAsync(caller.OrgId, caller.UserId, ct) is not { ConfirmedAt: not null })
        {
            return Failure.Conflict("Recovery codes come with an authenticator: enrol TOTP first.");
        }

        var codes = RecoveryCodes.New();
        await store.ReplaceRecoveryCodesAsync(caller.OrgId, caller.UserId, codes.Select(c => HashRecovery(caller.UserId, c)).ToList(), Now, ct);
        await audit.RecordAsync(Entry(caller, AuditEvents.MfaRecoveryCodesRegenerated), ct);
        return new RecoveryCodesView(codes);
    }

    /// <summary>
    /// Verifies a second factor of <paramref name="userId"/> (already identified by a password or a session): per-account
    /// rate limit and lockout first, then the factor; a wrong one counts toward the email's lockout and is audited.
    /// </summary>
    public async Task<Result<VerifiedFactor>> VerifyAsync(string orgId, string userId, string? sessionId, MfaProof proof, ClientInfo client, string purpose,
        CancellationToken ct)
    {
        if (await users.GetInOrgAsync(orgId, userId, ct) is not { } user)
        {
            return Failure.Unauthorized("The user is no longer a member of the organization.");
        }

        var emailKey = failures.KeyOf(UserStore.NormalizeEmail(user.Email));
        var verdict = await limiter.CheckAccountAsync(LimitedAction.SignIn, UserStore.NormalizeEmail(user.Email), ct);
        if (!verdict.Admitted)
        {
            return RateLimitEndpoints.Refused(LimitedAction.SignIn, verdict);
        }

        if (await users.LoginFailureAsync(emailKey, ct) is { LockedUntil: { } until } && until > Now)
        {
            return Locked(until);
        }

        var method = proof.Method ?? "";
        var outcome = method switch
        {
            MfaMethods.Totp => await VerifyTotpAsync(orgId, userId, proof.Code, ct),
            MfaMethods.RecoveryCode => await VerifyRecoveryCodeAsync(orgId, userId, proof.Code, ct),
            MfaMethods.Passkey => await VerifyPasskeyAsync(userId, proof, ct),
            _ => Failure.Invalid("method", "must be totp, recovery_code or passkey."),
        };
        if (outcome.Error is { } error)
        {
            if (error.Status == 401)
            {
                await AuditFailureAsync(orgId, userId, sessionId, client, method, error.Code, ct, purpose);
                return await CountFailureAsync(orgId, user, emailKey, sessionId, client, error, ct);
            }

            return error;
        }

        var factor = outcome.Value!;
        // A complete authentication clears the email's failures (the password step alone does not, for a user with a factor).
        if (await users.LoginFailureAsync(emailKey, ct) is not null)
        {
            await users.ClearLoginFailuresAsync(emailKey, ct);
        }

        Log.Succeeded(logger, orgId, userId, factor.Method);
        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.MfaSucceeded)
        {
            UserId = userId, SessionId = sessionId, Ip = client.Ip, UserAgent = client.UserAgent, Details = new() { ["method"] = factor.Method, ["purpose"] = purpose },
        }, ct);
        if (factor.Method == MfaMethods.RecoveryCode)
        {
            // The org sees it: a lost authenticator, or someone holding a stolen code.
            Log.RecoveryCodeUsed(logger, orgId, userId);
            await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.MfaRecoveryCodeUsed)
            {
                UserId = userId, Email = user.Email, SessionId = sessionId, Ip = client.Ip, UserAgent = client.UserAgent,
                Details = new() { ["purpose"] = purpose, ["codes_left"] = (await store.RecoveryCodesLeftAsync(orgId, userId, ct)).ToString(System.Globalization.CultureInfo.InvariantCulture) },
            }, ct);
        }
        return factor;
    }

    private async Task<Result<VerifiedFactor>> VerifyTotpAsync(string orgId, string userId, string? code, CancellationToken ct)
    {
        if (await store.TotpAsync(orgId, userId, ct) is not { ConfirmedAt: not null } row)
        {
            return MfaFailures.MethodUnavailable(MfaMethods.Totp);
        }

        var secret = sealer.UnsealUserSecret(TotpSecretKind, userId, row.SealedSecret);
        if (TotpCodes.Normalize(code) is not { } digits || TotpCodes.Match(secret, digits, time.GetUtcNow()) is not { } step)
        {
            return MfaFailures.CodeInvalid();
        }
        // Each code once: its step must be later than every step accepted before (a conditional update, so two requests
        // racing with one code cannot both win).
        if (row.LastStep >= step || !await store.UseStepAsync(orgId, userId, step, ct))
        {
            return MfaFailures.CodeReplayed();
        }

        return new VerifiedFactor(MfaMethods.Totp, "otp", AuthenticationLevels.MultiFactor);
    }

    private async Task<Result<VerifiedFactor>> VerifyRecoveryCodeAsync(string orgId, string userId, string? code, CancellationToken ct)
    {
        if (await store.TotpAsync(orgId, userId, ct) is not { ConfirmedAt: not null })
        {
            return MfaFailures.MethodUnavailable(MfaMethods.RecoveryCode);
        }

        if (RecoveryCodes.Normalize(code) is not { } normalized)
        {
            return MfaFailures.CodeInvalid();
        }

        return await store.UseRecoveryCodeAsync(orgId, userId, HashRecovery(userId, normalized), Now, ct) switch
        {
            1 => new VerifiedFactor(MfaMethods.RecoveryCode, "otp", AuthenticationLevels.MultiFactor),
            0 => MfaFailures.RecoveryCodeUsed(),
            _ => MfaFailures.CodeInvalid(),
        };
    }

    private async Task<Result<VerifiedFactor>> VerifyPasskeyAsync(string userId, MfaProof proof, CancellationToken ct)
    {
        if (Passkeys is not { } passkeys || !await passkeys.HasPasskeyAsync(userId, ct))
        {
            return MfaFailures.MethodUnavailable(MfaMethods.Passkey);
        }

        if (string.IsNullOrEmpty(proof.ChallengeId) || proof.Assertion is not { ValueKind: JsonValueKind.Object } assertion)
        {
            return Failure.Invalid(string.IsNullOrEmpty(proof.ChallengeId) ? "challenge_id" : "assertion", "is required for the passkey method.");
        }

        var result = await passkeys.CompleteAssertionAsync(proof.ChallengeId, userId, assertion, ct);
        if (result.Error is { } error)
        {
            // Whatever the ceremony refused (signature, counter, challenge) counts as a failed factor.
            return error.Status is 400 or 401 or 404 ? error with { Status = 401 } : error;
        }

        return new VerifiedFactor(MfaMethods.Passkey, result.Value!.Amr, AuthenticationLevels.PhishingResistant);
    }

    /// <summary>Per-account limit for enrolment confirmation (sign-in's bucket: a stolen session gets no extra guesses).</summary>
    private async Task<Failure?> LimitAsync(string orgId, string userId, CancellationToken ct)
    {
        if (await users.GetInOrgAsync(orgId, userId, ct) is not { } user)
        {
            return Failure.NotFound("User");
        }

        var verdict = await limiter.CheckAccountAsync(LimitedAction.SignIn, UserStore.NormalizeEmail(user.Email), ct);
        return verdict.Admitted ? null : RateLimitEndpoints.Refused(LimitedAction.SignIn, verdict);
    }

    /// <summary>A wrong second factor counts one failure on the email's lockout row, exactly like a wrong password.</summary>
    private async Task<Failure> CountFailureAsync(string orgId, UserRow user, string emailKey, string? sessionId, ClientInfo client, Failure failure,
        CancellationToken ct)
    {
        var now = Now;
        var l = options.Lockout;
        var count = await users.AddLoginFailureAsync(emailKey, now, (long)l.Window.TotalMilliseconds, ct);
        if (count < l.MaxFailures)
        {
            return failure;
        }

        var until = now + (long)l.Duration.TotalMilliseconds;
        await users.LockLoginAsync(emailKey, now, until, ct);
        metrics.Lockout();
        Log.Locked(logger, user.Id);
        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.AccountLocked, "failure")
        {
            UserId = user.Id, Email = user.Email, SessionId = sessionId, Ip = client.Ip, UserAgent = client.UserAgent,
            Details = new() { ["locked_until"] = DateTimeOffset.FromUnixTimeMilliseconds(until).ToString("O"), ["reason"] = "mfa_failures" },
        }, ct);
        return Locked(until);
    }

    private Failure Locked(long until)
    {
        var seconds = Math.Max(1, (until - Now + 999) / 1000);
        return Failure.Locked($"Too many failed sign-in attempts. Try again in {seconds} seconds.");
    }

    public async Task AuditFailureAsync(string orgId, string userId, string? sessionId, ClientInfo client, string method, string reason, CancellationToken ct,
        string purpose = "enrolment")
    {
        Log.Failed(logger, orgId, userId, reason);
        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.MfaFailed, "failure")
        {
            UserId = userId, SessionId = sessionId, Ip = client.Ip, UserAgent = client.UserAgent,
            Details = new() { ["method"] = method.Length is > 0 and <= 32 ? method : "invalid", ["reason"] = reason, ["purpose"] = purpose },
        }, ct);
    }

    private string HashRecovery(string userId, string code) => RecoveryCodes.Hash(_recoveryKey, userId, RecoveryCodes.Normalize(code)!);

    private static AuditEntry Entry(Caller caller, string evt) => new(caller.OrgId, evt)
    {
        ActorId = caller.UserId, UserId = caller.UserId, SessionId = caller.SessionId, Ip = caller.Client.Ip, UserAgent = caller.Client.UserAgent,
    };

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();
}
