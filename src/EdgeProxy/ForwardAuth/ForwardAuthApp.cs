using System.Security.Cryptography;
using System.Text;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Pipeline;
using Authio.Shared.Errors;

namespace Authio.EdgeProxy.ForwardAuth;

/// <summary>Marks a request as a forward-auth check: the edge's stages decide it, and the answer replaces the forward.</summary>
internal sealed class ForwardAuthMark
{
    public static readonly ForwardAuthMark Instance = new();
}

/// <summary>
/// The forward-auth listener (<c>Edge:ForwardAuth:Urls</c>). Each check is rewritten into the original request it asks
/// about (<see cref="ForwardedRequest"/>) and then runs through the proxy listener's own pipeline — request hygiene,
/// routing over the same YARP route table, the route gate, and <see cref="EdgeMiddleware"/>'s stages with the same
/// validator, caches, revocation and rate limits — so there is no second decision path. Only the last step differs:
/// where an admitted request would be forwarded, the check is answered 200 with the identity headers
/// (<see cref="EdgeMiddleware"/>); a refusal is the very answer the inline edge gives (401/403/429 problem+json with
/// <c>WWW-Authenticate</c>, <c>Retry-After</c> and RateLimit headers).
/// </summary>
internal static partial class ForwardAuthApp
{
    public const string ApplicationName = "Authio.EdgeProxy.ForwardAuth";

    private static readonly EdgeError MissingSecret = new(401, ErrorCodes.Unauthorized, "Unauthorized",
        "The forward-auth check did not carry the proxy's shared secret.", null);

    /// <param name="proxy">The proxy listener's app, whose pipeline (built again here, over the same route table) decides.</param>
    public static WebApplication Build(WebApplication proxy, ForwardAuthOptions options, Action<IApplicationBuilder> edgePipeline)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = ApplicationName });
        builder.WebHost.UseUrls(options.UrlList);
        builder.Logging.ClearProviders();
        var app = builder.Build();

        // A branch of the proxy app: same services, same endpoint data source (YARP's routes, reloads included).
        var branch = ((IApplicationBuilder)proxy).New();
        edgePipeline(branch);
        // A branch does not inherit the app's endpoints: hand routing the proxy's data sources (the YARP route table).
        branch.UseEndpoints(endpoints =>
        {
            foreach (var source in ((IEndpointRouteBuilder)proxy).DataSources)
            {
                endpoints.DataSources.Add(source);
            }
        });
        var decide = branch.Build();

        var services = proxy.Services;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(ApplicationName);
        LogListening(logger, string.Join(';', options.UrlList), options.SharedSecretHeader ?? "none");
        foreach (var url in options.UrlList.Where(url => !IsLoopbackOrPrivate(url)))
        {
            LogExposed(logger, url);
        }
        var secretHeader = options.SharedSecretHeader;
        var secret = options.SharedSecret is null ? null : Encoding.UTF8.GetBytes(options.SharedSecret);
        app.Run(context =>
        {
            context.RequestServices = services;
            if (secret is not null && !HasSecret(context.Request.Headers[secretHeader!], secret))
            {
                return EdgeResponses.WriteAsync(context, MissingSecret);
            }
            if (ForwardedRequest.TryApply(context) is { } invalid)
            {
                return EdgeResponses.WriteAsync(context, invalid);
            }
            context.Features.Set(ForwardAuthMark.Instance);
            return decide(context);
        });
        return app;
    }

    /// <summary>Whether <paramref name="url"/> binds a loopback or private (RFC 1918, RFC 4193, link-local) address; wildcards are neither.</summary>
    internal static bool IsLoopbackOrPrivate(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return false;
        }
        if (uri.IsLoopback)
        {
            return true;
        }
        if (!System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address))
        {
            return false; // a name or a wildcard (*, +): may be every interface
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        var bytes = address.GetAddressBytes();
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? bytes[0] == 10 || (bytes[0] == 172 && bytes[1] is >= 16 and <= 31) || (bytes[0] == 192 && bytes[1] == 168) || (bytes[0] == 169 && bytes[1] == 254)
            : (bytes[0] & 0xFE) == 0xFC || address.IsIPv6LinkLocal;
    }

    private static bool HasSecret(Microsoft.Extensions.Primitives.StringValues values, byte[] secret)
    {
        if (values.Count != 1 || values[0] is not { } value)
        {
            return false;
        }
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetMaxByteCount(value.Length) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(value, buffer)] : Encoding.UTF8.GetBytes(value);
        return CryptographicOperations.FixedTimeEquals(bytes, secret);
    }
}
