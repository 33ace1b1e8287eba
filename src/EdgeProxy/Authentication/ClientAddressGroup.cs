using System.Net;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// The unit an address-keyed guard counts: an IPv4 address, or an IPv6 address cut to its first <c>prefix</c> bits
/// (default /64, the smallest block a site is normally given), so one subscriber cannot spread over 2^64 budgets.
/// IPv4-mapped IPv6 (::ffff:a.b.c.d, what a dual-stack socket reports) counts as the IPv4 address.
/// </summary>
internal static class ClientAddressGroup
{
    public const int MinIpv6Prefix = 32;
    public const int MaxIpv6Prefix = 128;

    /// <summary>IPv4 in the low 4 bytes (as <c>BucketTable.AddressKey</c> always had it), IPv6 masked to <paramref name="ipv6Prefix"/>; 0 for none.</summary>
    public static UInt128 Key(IPAddress? address, int ipv6Prefix)
    {
        if (address is null)
        {
            return UInt128.Zero;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        address.TryWriteBytes(bytes, out var written);
        if (written == 16 && ipv6Prefix < 128)
        {
            // Network byte order: the prefix is the first ipv6Prefix bits of the 16 bytes.
            var full = ipv6Prefix / 8;
            if (ipv6Prefix % 8 != 0)
            {
                bytes[full] &= (byte)(0xFF << (8 - ipv6Prefix % 8));
                full++;
            }
            bytes[full..].Clear();
        }
        return BitConverter.ToUInt128(bytes);
    }
}
