using Authio.EdgeProxy.Configuration;

namespace Authio.EdgeProxy.WebSockets;

internal static class WebSocketServices
{
    /// <summary>Upgraded connections (<c>Edge:WebSockets</c>): the registry that closes them when their credential expires or is revoked.</summary>
    public static IServiceCollection AddEdgeWebSockets(this IServiceCollection services, EdgeOptions options)
    {
        services.AddSingleton<LiveConnections>();
        return services;
    }
}
