using Authio.EdgeProxy.Configuration;

namespace Authio.EdgeProxy.Authentication;

internal static class AuthenticationServices
{
    /// <summary>
    /// Bearer-token authentication: the validated-token cache (<c>Edge:Tokens:CacheCapacity</c>), the negative cache
    /// and the per-address failure budget (<c>Edge:FailureBudget</c>), and the authenticator over them. A capacity of
    /// 0 registers the disabled cache, which never holds anything.
    /// </summary>
    public static IServiceCollection AddEdgeAuthentication(this IServiceCollection services, EdgeOptions options)
    {
        services.AddSingleton(options.FailureBudget);
        services.AddSingleton(new TokenCache(options.Tokens.CacheCapacity));
        services.AddSingleton(new NegativeTokenCache(options.FailureBudget.NegativeCacheCapacity));
        services.AddSingleton<FailureBudget>();
        services.AddSingleton<EdgeAuthenticator>();
        return services;
    }
}
