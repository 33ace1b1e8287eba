using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.SigningKeys;

internal static class SigningKeysRegistration
{
    /// <summary>The master key (configured, or generated into the data directory), the envelope sealer and the per-org key rings.</summary>
    public static IServiceCollection AddSigningKeys(this IServiceCollection services, ControlPlaneOptions options)
    {
        services.AddSingleton(sp => MasterKey.Load(options, sp.GetRequiredService<ILogger<MasterKey>>()));
        services.AddSingleton<KeySealer>();
        services.AddSingleton<SigningKeyStore>();
        return services;
    }
}
