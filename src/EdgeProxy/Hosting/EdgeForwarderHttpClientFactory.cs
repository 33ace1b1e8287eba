using System.Text;
using Yarp.ReverseProxy.Forwarder;

namespace Authio.EdgeProxy.Hosting;

/// <summary>
/// YARP's client with UTF-8 request header encoding, so identity headers carrying non-ASCII claim values
/// (a subject like "josé") reach the upstream instead of failing the forward. Control characters never get here.
/// </summary>
internal sealed class EdgeForwarderHttpClientFactory : ForwarderHttpClientFactory
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.RequestHeaderEncodingSelector ??= static (_, _) => Encoding.UTF8;
    }
}
