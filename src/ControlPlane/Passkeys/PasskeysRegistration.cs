using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Mfa;
using Fido2NetLib;

namespace Authio.ControlPlane.Passkeys;

internal static class PasskeysRegistration
{
    /// <summary>
    /// Passkeys (WebAuthn): registration and the credential list, and <see cref="IPasskeyCeremonies"/> for the sign-in
    /// flows. Reads <c>ControlPlane:Passkeys</c> (a bad value stops start-up naming its key).
    /// </summary>
    public static IServiceCollection AddPasskeys(this IServiceCollection services, ControlPlaneOptions options, IConfiguration configuration)
    {
        var passkeys = PasskeyOptions.Load(configuration, options.Issuer);
        services.AddSingleton(passkeys);
        services.AddSingleton<IFido2>(new Fido2(new Fido2Configuration
        {
            RPID = passkeys.RelyingPartyId!,
            RPName = passkeys.RelyingPartyName!,
            Origins = new HashSet<string>(passkeys.Origins, StringComparer.Ordinal),
            Timeout = (uint)PasskeyOptions.ChallengeLifetime.TotalMilliseconds,
        }, metadataService: null));
        services.AddSingleton<PasskeyStore>();
        services.AddSingleton<PasskeyAudit>();
        services.AddSingleton<PasskeyService>();
        services.AddSingleton<PasskeyCeremonies>();
        services.AddSingleton<IPasskeyCeremonies>(sp => sp.GetRequiredService<PasskeyCeremonies>());
        return services;
    }
}
