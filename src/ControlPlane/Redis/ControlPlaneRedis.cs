using Authio.ControlPlane.Hosting;
using StackExchange.Redis;

namespace Authio.ControlPlane.Redis;

/// <summary>
/// The control plane's one connection to <c>ControlPlane:Redis</c>, shared by the change publisher and the fleet-wide
/// credential rate limits. Connects on first use and never fails to connect: the multiplexer keeps retrying in the
/// background, and each consumer has its own fallback while Redis is away.
/// </summary>
internal sealed class ControlPlaneRedis : IAsyncDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection;

    public ControlPlaneRedis(ControlPlaneOptions options)
    {
        var configuration = ConfigurationOptions.Parse(options.Redis!);
        configuration.AbortOnConnectFail = false;
        _connection = new(() => ConnectionMultiplexer.ConnectAsync(configuration));
    }

    /// <summary>The shared connection (it may be disconnected: calls then fail fast and the caller falls back).</summary>
    public Task<ConnectionMultiplexer> ConnectAsync() => _connection.Value;

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully)
        {
            await _connection.Value.Result.DisposeAsync();
        }
    }
}
