using Authio.Shared.Tokens;

namespace Authio.ControlPlane.Tokens;

/// <summary>
/// How a session's user authenticated: the <c>amr</c> methods (RFC 8176), the <c>acr</c> level
/// (<see cref="AuthenticationLevels"/>) and when (<c>auth_time</c>, unix seconds). Kept on the session: refresh carries
/// it unchanged, step-up raises it.
/// </summary>
internal sealed record SignInContext(IReadOnlyList<string> Amr, string Acr, long AuthTime)
{
    public static SignInContext Password(long authTime) => new(["pwd"], AuthenticationLevels.Password, authTime);

    /// <summary>Password plus a one-time code (TOTP or recovery code).</summary>
    public static SignInContext PasswordAndOtp(long authTime) => new(["pwd", "otp", "mfa"], AuthenticationLevels.MultiFactor, authTime);

    /// <summary>Password plus a passkey (<paramref name="keyAmr"/> <c>hwk</c> or <c>swk</c>).</summary>
    public static SignInContext PasswordAndPasskey(string keyAmr, long authTime) => new(["pwd", keyAmr, "mfa"], AuthenticationLevels.PhishingResistant, authTime);

    /// <summary>
    /// A discoverable passkey alone: phishing-resistant; <c>mfa</c> too when the authenticator verified the user (the
    /// ceremonies require user verification for this flow, so it is always added here).
    /// </summary>
    public static SignInContext PasskeyOnly(string keyAmr, long authTime) => new([keyAmr, "mfa"], AuthenticationLevels.PhishingResistant, authTime);

    /// <summary>The space-separated form stored on the session row.</summary>
    public string AmrText => string.Join(' ', Amr);

    /// <summary>
    /// What a session row says; sessions from before the context was stored count as password sign-ins at their start
    /// (<paramref name="createdAtMs"/>), the only way they could have begun.
    /// </summary>
    public static SignInContext FromRow(string? amr, string? acr, long? authTimeSeconds, long createdAtMs) =>
        acr is null || amr is null
            ? Password(createdAtMs / 1000)
            : new(amr.Split(' ', StringSplitOptions.RemoveEmptyEntries), acr, authTimeSeconds ?? createdAtMs / 1000);

    /// <summary>
    /// The context after a step-up: the session's first factor plus the one just shown (<paramref name="factorAmr"/>,
    /// e.g. <c>otp</c> or <c>hwk</c>, worth <paramref name="factorAcr"/>): the union of the methods with <c>mfa</c>, the
    /// stronger level of the two, and <paramref name="now"/> as the new <c>auth_time</c>.
    /// </summary>
    public SignInContext Raise(string factorAmr, string factorAcr, long now)
    {
        var amr = Amr.Where(m => m != "mfa").Append(factorAmr).Distinct(StringComparer.Ordinal).Append("mfa").ToList();
        var acr = AuthenticationLevels.Rank(factorAcr) >= AuthenticationLevels.Rank(Acr) ? factorAcr : Acr;
        return new SignInContext(amr, acr, Math.Max(AuthTime, now));
    }
}
