
namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// Makes a claim safe to forward as an HTTP header value without giving the forwarder a non-ASCII encoder (which cost
/// ≈ 8 % of proxy throughput in load runs): a value holding non-ASCII characters or '%' is sent percent-encoded
/// (UTF-8, RFC 3986); any other value is sent as is. A literal value therefore never contains '%', so upstreams may
/// percent-decode every X-Authio-* value unconditionally. Computed once per validated credential, never per request.
/// </summary>
internal static class IdentityHeaderValue
{
    public static string Encode(string value)
    {
        foreach (var c in value)
        {
            if (c is > '~' or '%')
            {
                return Uri.EscapeDataString(value).Replace("%20", " ", StringComparison.Ordinal);
            }
        }
        return value;
    }

    /// <summary>What an upstream does to read the original claim back.</summary>
    public static string Decode(string headerValue) => Uri.UnescapeDataString(headerValue);

}
