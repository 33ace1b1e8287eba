using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Redis;

internal static class RedisRegistration
{
    /// <summary>The shared Redis connection, when <c>ControlPlane:Redis</c> is set (nothing is registered otherwise).</summary>
    public static IServiceCollection AddControlPlaneRedis(this IServiceCollection services, ControlPlaneOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.Redis))
        {
            services.AddSingleton<ControlPlaneRedis>();
        }

        return services;
    }
}
