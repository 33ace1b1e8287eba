using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Keys;

namespace Authio.EdgeProxy.Tokens;

internal static class TokenServices
{
    /// <summary>
    /// JWT validation (<c>Edge:Tokens</c>, <c>Edge:Issuers</c>): the trusted issuers, the validator, and the JWKS
    /// fetcher and refresher that keep each issuer's key set current.
    /// </summary>
    public static IServiceCollection AddEdgeTokens(this IServiceCollection services, EdgeOptions options)
    {
        services.AddSingleton(options.Tokens);
        services.AddSingleton(new IssuerRegistry(options.Issuers.Select(i => new TrustedIssuer(i)).ToArray()));
        services.AddSingleton<JwtValidator>();
        services.AddHttpClient(JwksFetcher.HttpClientName);
        services.AddSingleton(sp => new JwksFetcher(sp.GetRequiredService<IHttpClientFactory>().CreateClient(JwksFetcher.HttpClientName)));
        services.AddSingleton<JwksRefresher>();
        services.AddHostedService(sp => sp.GetRequiredService<JwksRefresher>());
        return services;
    }
}
