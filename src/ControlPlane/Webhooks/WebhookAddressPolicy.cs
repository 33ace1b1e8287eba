using System.Net;
using System.Net.Sockets;
using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Webhooks;

/// <summary>
/// Which webhook URLs and addresses the control plane may call (server-side request forgery guard). By default: https
/// only, no credentials in the URL, and never an address inside a private network — loopback, RFC 1918, carrier-grade
/// NAT, link-local (with the 169.254.169.254 metadata service), unique-local and site-local IPv6, multicast, reserved,
/// and IPv4-mapped/compatible IPv6 forms. Checked when a webhook is saved (its host resolved) and again on every
/// connection, against the address actually connected to (<see cref="ConnectAsync"/>), so DNS that changes its answer
/// later (rebinding) gains nothing. <c>Webhooks:AllowPrivateNetworks</c> lifts the address and scheme rules.
/// </summary>
internal sealed class WebhookAddressPolicy(ControlPlaneOptions options)
{
    public const int MaxUrlLength = 2048;
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    private bool AllowPrivate => options.Webhooks.AllowPrivateNetworks;

    /// <summary>Why <paramref name="url"/> is refused by its form alone, or null (then <paramref name="uri"/> is set).</summary>
    public string? CheckForm(string? url, out Uri? uri)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(url) || url.Length > MaxUrlLength || !Uri.TryCreate(url, UriKind.Absolute, out var parsed))
        {
            return "must be an absolute URL of at most " + MaxUrlLength + " characters.";
        }

        if (parsed.Scheme != Uri.UriSchemeHttps && !(AllowPrivate && parsed.Scheme == Uri.UriSchemeHttp))
        {
            return "must use https.";
        }

        if (!string.IsNullOrEmpty(parsed.UserInfo))
        {
            return "must not carry credentials.";
        }

        if (!string.IsNullOrEmpty(parsed.Fragment))
        {
            return "must not have a fragment.";
        }

        uri = parsed;
        return null;
    }

    /// <summary>Why the host of <paramref name="uri"/> is refused after resolving it, or null.</summary>
    public async Task<string?> CheckResolvedAsync(Uri uri, CancellationToken ct)
    {
        IPAddress[] addresses;
        try
        {
            addresses = await ResolveAsync(uri.IdnHost, ct);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ArgumentException && !ct.IsCancellationRequested)
        {
            return "host does not resolve.";
        }
        if (addresses.Length == 0)
        {
            return "host does not resolve.";
        }

        return !AllowPrivate && addresses.FirstOrDefault(a => !IsPublic(a)) is { } bad
            ? $"host resolves to a private, loopback, link-local or otherwise internal address ({Describe(bad)})."
            : null;
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            return [literal];
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ResolveTimeout);
        return await Dns.GetHostAddressesAsync(host, timeout.Token);
    }

    /// <summary>
    /// <see cref="SocketsHttpHandler.ConnectCallback"/>: resolves the host, connects only to allowed addresses, and checks
    /// the address the socket is actually connected to before any byte is sent.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = await ResolveAsync(host, ct);
        var allowed = AllowPrivate ? addresses : addresses.Where(IsPublic).ToArray();
        if (allowed.Length == 0)
        {
            throw new WebhookAddressRefusedException("the endpoint's host resolves only to refused addresses");
        }

        Exception? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct);
                if (!AllowPrivate && (socket.RemoteEndPoint is not IPEndPoint remote || !IsPublic(remote.Address)))
                {
                    throw new WebhookAddressRefusedException("the connection reached a refused address");
                }

                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception e) when (e is SocketException or WebhookAddressRefusedException)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last!;
    }

    /// <summary>True for a globally routable unicast address; false for everything a webhook must never reach by default.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return IsPublicV4(address.GetAddressBytes());
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        // Mapped (::ffff:a.b.c.d) and compatible (::a.b.c.d) forms reach IPv4 hosts on dual-stack sockets: never.
        if (address.IsIPv4MappedToIPv6)
        {
            return false;
        }

        var b = address.GetAddressBytes();
        if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0)
        {
            return false; // ::, ::1 and ::a.b.c.d
        }

        if (b[0] == 0xff // multicast
            || (b[0] & 0xfe) == 0xfc // fc00::/7 unique local
            || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) // fe80::/10 link-local
            || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) // fec0::/10 site-local (deprecated)
            || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) // 2001:db8::/32 documentation
            || (b[0] == 0x01 && b[1] == 0x00 && b.AsSpan(2, 6).IndexOfAnyExcept((byte)0) < 0)) // 100::/64 discard
        {
            return false;
        }

        // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an IPv4 address: judge that one.
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
        {
            return IsPublicV4(b.AsSpan(12, 4));
        }

        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return IsPublicV4(b.AsSpan(2, 4));
        }

        return (b[0] & 0xe0) == 0x20; // 2000::/3 is where global unicast lives
    }

    private static bool IsPublicV4(ReadOnlySpan<byte> b) => !(
        b[0] == 0 // 0.0.0.0/8 "this network"
        || b[0] == 10 // 10/8
        || b[0] == 127 // loopback
        || (b[0] == 100 && (b[1] & 0xc0) == 64) // 100.64/10 carrier-grade NAT
        || (b[0] == 169 && b[1] == 254) // link-local, incl. 169.254.169.254 (cloud metadata)
        || (b[0] == 172 && (b[1] & 0xf0) == 16) // 172.16/12
        || (b[0] == 192 && b[1] == 0 && b[2] == 0) // 192.0.0/24 protocol assignments
        || (b[0] == 192 && b[1] == 0 && b[2] == 2) // TEST-NET-1
        || (b[0] == 192 && b[1] == 88 && b[2] == 99) // 6to4 relay anycast
        || (b[0] == 192 && b[1] == 168) // 192.168/16
        || (b[0] == 198 && (b[1] & 0xfe) == 18) // 198.18/15 benchmarking
        || (b[0] == 198 && b[1] == 51 && b[2] == 100) // TEST-NET-2
        || (b[0] == 203 && b[1] == 0 && b[2] == 113) // TEST-NET-3
        || b[0] >= 224); // multicast, reserved, broadcast

    // An address names itself only by family and kind, so the message never helps map an internal network.
    private static string Describe(IPAddress a) => a.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
}

/// <summary>A webhook connection was refused by <see cref="WebhookAddressPolicy"/>.</summary>
internal sealed class WebhookAddressRefusedException(string message) : Exception(message);
