using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Sync;

/// <summary>
/// A real edge configured only with a control plane, played by a <see cref="FakeFeed"/> signing with
/// <paramref name="key"/>, in front of a recording upstream; long polls of 2 s so tests see changes quickly.
/// </summary>
public abstract class FakeFeedAndEdge(TestKey key) : IAsyncLifetime
{
    private protected RecordingUpstream Upstream { get; } = new();
    private protected FakeFeed Feed { get; } = new(key);
    private protected EdgeTestHost Edge { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Upstream.StartAsync();
        await Feed.StartAsync();
        var config = EdgeTestHost.ControlPlaneOnlyConfig(Upstream.Url, Feed.Url, Feed.EdgeKey);
        config["Edge:ControlPlane:LongPollSeconds"] = "2";
        Edge = await EdgeTestHost.StartAsync(config);
        await Edge.WaitForSnapshotAsync();
    }

    public async Task DisposeAsync()
    {
        await Edge.DisposeAsync();
        await Feed.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
