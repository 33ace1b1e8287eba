using Authio.EdgeProxy.Demo;
using Authio.Shared.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Authio.EdgeProxy.Hosting;

/// <summary>The running edge: proxy and admin listeners (and the demo upstream when enabled), started and stopped together.</summary>
internal sealed class EdgeHost(WebApplication proxy, WebApplication admin, DemoStack? demo, WebApplication? forwardAuth = null) : IAsyncDisposable
{
    public WebApplication Proxy { get; } = proxy;
    public WebApplication Admin { get; } = admin;
    public IServiceProvider Services => Proxy.Services;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (demo is not null)
        {
            await ListenerStart.RunAsync("Edge:Demo:UpstreamPort", () => demo.StartUpstreamAsync(cancellationToken));
        }
        await ListenerStart.RunAsync("Urls", () => Proxy.StartAsync(cancellationToken));
        if (forwardAuth is not null)
        {
            await ListenerStart.RunAsync("Edge:ForwardAuth:Urls", () => forwardAuth.StartAsync(cancellationToken));
        }
        await ListenerStart.RunAsync("Edge:AdminUrls", () => Admin.StartAsync(cancellationToken));
        demo?.PrintWelcome(ProxyUrls.First(), AdminUrls.First());
    }

    public async Task RunAsync()
    {
        await StartAsync();
        await Proxy.WaitForShutdownAsync();
        await StopAsync();
    }

    public async Task StopAsync()
    {
        await Admin.StopAsync();
        if (forwardAuth is not null)
        {
            await forwardAuth.StopAsync();
        }
        await Proxy.StopAsync();
        if (demo is not null)
        {
            await demo.StopAsync();
        }
    }

    public IReadOnlyList<string> ProxyUrls => Addresses(Proxy);
    public IReadOnlyList<string> AdminUrls => Addresses(Admin);
    /// <summary>The forward-auth listener's bound addresses; empty when it is off.</summary>
    public IReadOnlyList<string> ForwardAuthUrls => forwardAuth is null ? [] : Addresses(forwardAuth);

    private static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];

    public async ValueTask DisposeAsync()
    {
        await Admin.DisposeAsync();
        if (forwardAuth is not null)
        {
            await forwardAuth.DisposeAsync();
        }
        await Proxy.DisposeAsync();
        if (demo is not null)
        {
            await demo.DisposeAsync();
        }
    }
}
