namespace Authio.ControlPlane.Mfa;

internal static class MfaRegistration
{
    /// <summary>
    /// Second factors (TOTP, recovery codes), the two-step sign-in, step-up, the org MFA policy checks. Passkeys are
    /// resolved optionally (<see cref="IPasskeyCeremonies"/>): without an implementation they are simply not offered.
    /// </summary>
    public static IServiceCollection AddMfa(this IServiceCollection services)
    {
        services.AddSingleton<MfaStore>();
        services.AddSingleton<MfaPolicyCache>();
        services.AddSingleton<MfaService>();
        services.AddSingleton<MfaSignIn>();
        services.AddSingleton<StepUp>();
        services.AddSingleton<MfaEnrollmentGate>();
        return services;
    }
}
