using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Auth;
using Authio.ControlPlane.Diagnostics;
using Authio.ControlPlane.Orgs;
using Authio.ControlPlane.Risk;
using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.Tokens;
using Authio.ControlPlane.Users;
using Authio.Shared.Errors;
using Microsoft.IdentityModel.Tokens;

namespace Authio.ControlPlane.Mfa;

/// <summary>What sign-in does after the password: nothing more, a second factor, or a session limited to enrolment.</summary>
internal enum SecondStep { None, SecondFactor, MustEnrol }

/// <summary>The first step of a two-step sign-in: the token to send back with the second factor, and the factors on offer.</summary>
internal sealed record MfaPending(string MfaToken, IReadOnlyList<string> Methods, int ExpiresIn);

/// <summary>A finished sign-in: the token pair and how the user authenticated.</summary>
internal sealed record SignedIn(TokenPair Tokens, SignInContext SignIn);

/// <summary>
/// The second step of sign-in (<c>POST /v1/auth/mfa</c>), passkey sign-in, and step-up. An <c>mfa_token</c> is
/// <c>{org}.{256 random bits}</c> (only its SHA-256 is stored), lasts <see cref="TokenLifetime"/>, is bound to the
/// first step's user and client (address and user agent), is used up by a success or by
/// <see cref="MaxFailuresPerToken"/> wrong factors, and every wrong factor also counts toward the email's lockout.
/// </summary>
internal sealed partial class MfaSignIn(
    MfaStore store, MfaService mfa, MfaPolicyCache policies, SessionService sessions, UserStore users, OrgStore orgs, AuditLog audit, LoginFailures failures,
    SignInRisk risk, ControlPlaneMetrics metrics, TimeProvider time, ILogger<MfaSignIn> logger)
{
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromMinutes(5);
    public const int MaxFailuresPerToken = 5;

    private long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();
    private long NowSeconds => time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>Called by sign-in once the password is verified and the org chosen.</summary>
    public async Task<(SecondStep Step, List<string> Methods)> DecideAsync(string orgId, string userId, string role, CancellationToken ct)
    {
        var methods = await mfa.MethodsAsync(orgId, userId, ct);
        if (methods.Count > 0)
        {
            return (SecondStep.SecondFactor, methods);
        }

        return (MfaPolicy.Requires(await policies.GetAsync(orgId, ct), role) ? SecondStep.MustEnrol : SecondStep.None, methods);
    }

    public async Task<MfaPending> BeginAsync(string orgId, string userId, IReadOnlyList<string> methods, ClientInfo client, CancellationToken ct)
    {
        var token = orgId + "." + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var now = NowMs;
        await store.InsertChallengeAsync(new MfaChallengeRow
        {
            OrgId = orgId, Id = Hash(token), UserId = userId, Ip = client.Ip, UserAgent = client.UserAgent,
            CreatedAt = now, ExpiresAt = now + (long)TokenLifetime.TotalMilliseconds,
        }, ct);
        return new MfaPending(token, methods, (int)TokenLifetime.TotalSeconds);
    }

    /// <summary>The second step: the factor for the <c>mfa_token</c>'s user, from the same client; a session on success.</summary>
    public async Task<Result<SignedIn>> CompleteAsync(string? mfaToken, MfaProof proof, ClientInfo client, CancellationToken ct)
    {
        var found = await FindAsync(mfaToken, client, ct);
        if (found.Error is { } refused)
        {
            return refused;
        }

        var row = found.Value!;
        // Read before the factor is verified: a verified factor clears the email's failures, and with them the lock's end.
        var prior = await PriorAsync(row.OrgId, row.UserId, ct);
        var factor = await mfa.VerifyAsync(row.OrgId, row.UserId, null, proof, client, "sign_in", ct);
        if (factor.Error is { } error)
        {
            if (error.Status == 401)
            {
                await store.FailChallengeAsync(row.OrgId, row.Id, MaxFailuresPerToken, NowMs, ct);
            }

            return error;
        }
        // Single use: of two requests racing with one token, one wins.
        if (!await store.ConsumeChallengeAsync(row.OrgId, row.Id, NowMs, ct))
        {
            return MfaFailures.TokenInvalid();
        }

        var f = factor.Value!;
        var signIn = f.Method == MfaMethods.Passkey ? SignInContext.PasswordAndPasskey(f.Amr, NowSeconds) : SignInContext.PasswordAndOtp(NowSeconds);
        return await StartAsync(row.OrgId, row.UserId, client, signIn, f.Method, prior, ct);
    }

    /// <summary>Passkey options for the second step: an assertion limited to the <c>mfa_token</c>'s user's credentials.</summary>
    public async Task<Result<PasskeyChallenge>> PasskeyOptionsForTokenAsync(string? mfaToken, ClientInfo client, CancellationToken ct)
    {
        if (mfa.Passkeys is not { } passkeys)
        {
            return PasskeysOff();
        }

        var found = await FindAsync(mfaToken, client, ct);
        return found.Error ?? await passkeys.BeginAssertionAsync(found.Value!.UserId, ct);
    }

    /// <summary>Discoverable passkey sign-in, step one: a challenge without an allow-list.</summary>
    public async Task<Result<PasskeyChallenge>> PasskeyOptionsAsync(CancellationToken ct) =>
        mfa.Passkeys is { } passkeys ? await passkeys.BeginAssertionAsync(null, ct) : PasskeysOff();

    /// <summary>
    /// Discoverable passkey sign-in, step two: the credential names the user; the org is chosen as for a password
    /// sign-in (the one active org, or <paramref name="orgId"/>). Phishing-resistant on its own: no second step.
    /// </summary>
    public async Task<Result<SignedIn>> PasskeyLoginAsync(string? challengeId, JsonElement? assertion, string? orgId, ClientInfo client, CancellationToken ct)
    {
        if (mfa.Passkeys is not { } passkeys)
        {
            return PasskeysOff();
        }

        if (string.IsNullOrEmpty(challengeId) || assertion is not { ValueKind: JsonValueKind.Object } a)
        {
            return Failure.Invalid(string.IsNullOrEmpty(challengeId) ? "challenge_id" : "assertion", "is required.");
        }

        var verified = await passkeys.CompleteAssertionAsync(challengeId, null, a, ct);
        if (verified.Error is { } error)
        {
            metrics.SignIn(SignInOutcomes.Invalid);
            return error;
        }

        var userId = verified.Value!.UserId;
        var memberships = await users.OrgsOfAsync(userId, ct);
        var active = memberships.Where(m => m.Active).Select(m => m.OrgId).ToList();
        string chosen;
        if (orgId is not null)
        {
            if (!active.Contains(orgId))
            {
                metrics.SignIn(SignInOutcomes.Denied);
                return Failure.Unauthorized("This passkey cannot sign in to that organization.");
            }

            chosen = orgId;
        }
        else if (active.Count == 1)
        {
            chosen = active[0];
        }
        else if (active.Count == 0)
        {
            metrics.SignIn(SignInOutcomes.Denied);
            return Failure.Unauthorized("This passkey's user is not an active member of any organization.");
        }
        else
        {
            metrics.SignIn(SignInOutcomes.Invalid);
            return Failure.Invalid("org_id", $"is required: this user belongs to several organizations: {string.Join(", ", active)}. Send \"org_id\" with one of them.");
        }

        return await StartAsync(chosen, userId, client, SignInContext.PasskeyOnly(verified.Value.Amr, NowSeconds), MfaMethods.Passkey,
            await PriorAsync(chosen, userId, ct), ct);
    }

    /// <summary>
    /// Step-up: a second factor (or passkey) for the caller's session raises its <c>acr</c>/<c>amr</c> and <c>auth_time</c>;
    /// returns a new access token carrying them (the refresh token is unchanged and later refreshes keep the raised values).
    /// </summary>
    public async Task<Result<StepUpView>> StepUpAsync(Caller caller, MfaProof proof, CancellationToken ct)
    {
        var factor = await mfa.VerifyAsync(caller.OrgId, caller.UserId, caller.SessionId, proof, caller.Client, "step_up", ct);
        if (factor.Error is { } error)
        {
            return error;
        }

        var f = factor.Value!;
        var now = NowSeconds;
        if (await sessions.RaiseAsync(caller.OrgId, caller.SessionId, caller.UserId, s => s.Raise(f.Amr, f.Acr, now), ct) is not { } raised)
        {
            return Failure.Unauthorized("The session has ended.");
        }

        Log.SteppedUp(logger, caller.OrgId, caller.UserId, f.Method);
        await audit.RecordAsync(new AuditEntry(caller.OrgId, AuditEvents.MfaStepUp)
        {
            ActorId = caller.UserId, UserId = caller.UserId, SessionId = caller.SessionId, Ip = caller.Client.Ip, UserAgent = caller.Client.UserAgent,
            Details = new() { ["method"] = f.Method, ["acr"] = raised.SignIn.Acr },
        }, ct);
        return new StepUpView(raised.Token.Token, "Bearer", raised.Token.ExpiresInSeconds, raised.SignIn.Acr, raised.SignIn.Amr, raised.SignIn.AuthTime);
    }

    public async Task<Result<PasskeyChallenge>> StepUpPasskeyOptionsAsync(Caller caller, CancellationToken ct) =>
        mfa.Passkeys is { } passkeys ? await passkeys.BeginAssertionAsync(caller.UserId, ct) : PasskeysOff();

    /// <summary>The first step for an <c>mfa_token</c>, if still usable by this client; refusals are audited where the user is known.</summary>
    private async Task<Result<MfaChallengeRow>> FindAsync(string? mfaToken, ClientInfo client, CancellationToken ct)
    {
        var dot = mfaToken?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        if (mfaToken is null || dot <= 0 || mfaToken.Length > 512 || await orgs.GetAsync(mfaToken[..dot], ct) is null)
        {
            return MfaFailures.TokenInvalid();
        }

        var orgId = mfaToken[..dot];
        if (await store.ChallengeAsync(orgId, Hash(mfaToken), ct) is not { } row)
        {
            return MfaFailures.TokenInvalid();
        }

        string? reason = null;
        Failure? failure = null;
        if (row.UsedAt is not null)
        {
            (reason, failure) = ("mfa_token_used", MfaFailures.TokenInvalid());
        }
        else if (NowMs >= row.ExpiresAt)
        {
            (reason, failure) = ("mfa_token_expired", MfaFailures.TokenExpired());
        }
        else if (row.Ip != client.Ip || row.UserAgent != client.UserAgent)
        {
            // Bound to the client that passed the first step: a token lifted from one browser is useless in another.
            (reason, failure) = ("mfa_token_other_client", MfaFailures.TokenInvalid());
        }

        if (failure is not null)
        {
            await mfa.AuditFailureAsync(orgId, row.UserId, null, client, "", reason!, ct, "sign_in");
            return failure;
        }
        return row;
    }

    /// <summary>
    /// Starts the session of a sign-in that completed with <paramref name="method"/>, then runs the risk check on it: the
    /// one check of a two-step or passkey sign-in (its password step runs none), so it is reported and remembered once.
    /// Its factor already is the step-up <c>Risk:StepUpAbove</c> asks for, so no score refuses it here.
    /// </summary>
    private async Task<Result<SignedIn>> StartAsync(string orgId, string userId, ClientInfo client, SignInContext signIn, string method,
        (string? Email, bool AfterLockout) prior, CancellationToken ct)
    {
        var assessment = await risk.AssessAsync(userId, client, prior.AfterLockout, ct);
        if (await sessions.StartAsync(orgId, userId, client, signIn, ct) is not { } pair)
        {
            metrics.SignIn(SignInOutcomes.Denied);
            return Failure.Unauthorized("The user is no longer an active member of the organization.");
        }

        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.LoginSucceeded)
        {
            UserId = userId, SessionId = pair.SessionId, Ip = client.Ip, UserAgent = client.UserAgent,
            Details = new() { ["method"] = method, ["acr"] = signIn.Acr },
        }, ct);
        await risk.CompletedAsync(orgId, userId, prior.Email, pair.SessionId, client, assessment, method, ct);
        metrics.SignIn(SignInOutcomes.Success);
        return new SignedIn(pair, signIn);
    }

    /// <summary>The user's email (for the risk report) and whether their sign-in lock ended within the last hour.</summary>
    private async Task<(string? Email, bool AfterLockout)> PriorAsync(string orgId, string userId, CancellationToken ct)
    {
        if (await users.GetInOrgAsync(orgId, userId, ct) is not { } user)
        {
            return (null, false);
        }

        var state = await users.LoginFailureAsync(failures.KeyOf(UserStore.NormalizeEmail(user.Email)), ct);
        return (user.Email, SignInRisk.LockEndedRecently(state?.LockedUntil, NowMs));
    }

    private static Failure PasskeysOff() => new(404, ErrorCodes.NotFound, "Not found", "Passkeys are not enabled on this control plane.");

    private static string Hash(string token) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
