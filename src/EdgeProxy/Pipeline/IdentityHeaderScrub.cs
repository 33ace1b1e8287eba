using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.Primitives;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>
/// Removes the headers a client must not be able to set for the upstream (any case, '_' for '-'): every
/// <c>X-Authio-*</c> header (only the edge may assert identity), and the method and URL overrides
/// <c>X-HTTP-Method-Override</c>, <c>X-Method-Override</c>, <c>X-Original-URL</c>, <c>X-Rewrite-URL</c>, which some
/// frameworks honour in place of the method or path the route was matched on. The same pass adds up the header
/// section's size for <c>Edge:Limits:MaxRequestHeaderBytes</c>. Enumerating an <see cref="IHeaderDictionary"/> through
/// the interface boxes its struct enumerator (56 B per request, measured in MiddlewareBenchmarks), so the concrete
/// collection's own struct enumerator is used: <see cref="HeaderDictionary"/> directly, Kestrel's internal
/// request-header collection through a delegate bound once per type.
/// </summary>
internal static class IdentityHeaderScrub
{
    private static readonly ConcurrentDictionary<Type, Func<IHeaderDictionary, ScanResult>?> Scanners = new();

    /// <summary>
    /// Names plus values plus 4 (": " and CRLF) per header line: the bytes of an HTTP/1.1 header section, which is
    /// what Kestrel's own limit counts (HTTP/2 adds 32 per field instead, so this never counts more than Kestrel).
    /// </summary>
    private const int LineOverhead = 4;

    private readonly record struct ScanResult(List<string>? Spoofed, long Bytes);

    public static void Scrub(IHeaderDictionary headers) => Scrub(headers, out _);

    /// <summary>Removes spoofable headers; <paramref name="headerBytes"/> is the size of the header section as received.</summary>
    public static void Scrub(IHeaderDictionary headers, out long headerBytes)
    {
        var (spoofed, bytes) = headers is HeaderDictionary plain ? Scan(plain.GetEnumerator())
            : Scanners.GetOrAdd(headers.GetType(), BindScanner) is { } scan ? scan(headers)
            : Scan(headers.GetEnumerator()); // an unknown collection: correct, just not allocation-free
        headerBytes = bytes;
        if (spoofed is not null)
        {
            foreach (var name in spoofed)
            {
                headers.Remove(name);
            }
        }
    }

    /// <summary>The names to remove, or null (the normal case: nothing allocated), and the header section's size.</summary>
    private static ScanResult Scan<TEnumerator>(TEnumerator enumerator) where TEnumerator : IEnumerator<KeyValuePair<string, StringValues>>
    {
        List<string>? spoofed = null;
        long bytes = 0;
        while (enumerator.MoveNext())
        {
            var (name, values) = enumerator.Current;
            var lines = Math.Max(values.Count, 1);
            bytes += (long)lines * (name.Length + LineOverhead);
            for (var i = 0; i < values.Count; i++)
            {
                bytes += values[i]?.Length ?? 0;
            }
            if (IsSpoofableHeaderName(name))
            {
                (spoofed ??= []).Add(name);
            }
        }
        return new ScanResult(spoofed, bytes);
    }

    /// <summary>For a collection with a public struct <c>GetEnumerator()</c>: a scanner calling it without boxing; else null.</summary>
    private static Func<IHeaderDictionary, ScanResult>? BindScanner(Type headersType)
    {
        var getEnumerator = headersType.GetMethod(nameof(IEnumerable<>.GetEnumerator), BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes);
        if (getEnumerator is null || !getEnumerator.ReturnType.IsValueType
            || !typeof(IEnumerator<KeyValuePair<string, StringValues>>).IsAssignableFrom(getEnumerator.ReturnType))
        {
            return null;
        }
        try
        {
            var enumerate = getEnumerator.CreateDelegate(typeof(Func<,>).MakeGenericType(headersType, getEnumerator.ReturnType));
            return (Func<IHeaderDictionary, ScanResult>)typeof(IdentityHeaderScrub)
                .GetMethod(nameof(MakeScanner), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(headersType, getEnumerator.ReturnType)
                .Invoke(null, [enumerate])!;
        }
        catch (Exception ex) when (ex is ArgumentException or MethodAccessException or TargetInvocationException)
        {
            return null;
        }
    }

    private static Func<IHeaderDictionary, ScanResult> MakeScanner<THeaders, TEnumerator>(Func<THeaders, TEnumerator> enumerate)
        where TEnumerator : struct, IEnumerator<KeyValuePair<string, StringValues>> =>
        headers => Scan(enumerate((THeaders)headers));

    internal static bool IsSpoofableHeaderName(string name) => IsIdentityHeaderName(name) || IsOverrideHeaderName(name);

    private static readonly string[] OverrideHeaders = ["x-http-method-override", "x-method-override", "x-original-url", "x-rewrite-url"];

    private static bool IsOverrideHeaderName(string name)
    {
        if (name.Length is not (22 or 17 or 14 or 13) || (name[0] | 0x20) != 'x')
        {
            return false;
        }
        foreach (var candidate in OverrideHeaders)
        {
            if (candidate.Length == name.Length && SameName(name, candidate))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Case-insensitive, '_' accepted for '-' (CGI-style servers map both to the same variable).</summary>
    private static bool SameName(string name, string lowerCaseName)
    {
        for (var i = 0; i < lowerCaseName.Length; i++)
        {
            var c = char.ToLowerInvariant(name[i]);
            if (c != lowerCaseName[i] && !(lowerCaseName[i] == '-' && c == '_'))
            {
                return false;
            }
        }
        return true;
    }

    internal static bool IsIdentityHeaderName(string name)
    {
        const string prefix = "x-authio-";
        if (name.Length < prefix.Length)
        {
            return false;
        }
        for (var i = 0; i < prefix.Length; i++)
        {
            var c = char.ToLowerInvariant(name[i]);
            if (c != prefix[i] && !(prefix[i] == '-' && c == '_'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Whether <paramref name="headersType"/> is scanned without boxing (tests: Kestrel's collection must be).</summary>
    internal static bool ScansWithoutBoxing(Type headersType) =>
        headersType == typeof(HeaderDictionary) || Scanners.GetOrAdd(headersType, BindScanner) is not null;
}
