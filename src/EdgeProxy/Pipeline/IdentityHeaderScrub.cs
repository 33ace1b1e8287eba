using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.Primitives;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>
/// Removes every inbound <c>X-Authio-*</c> header (any case, '_' for '-'): only the edge may assert identity. Enumerating
/// an <see cref="IHeaderDictionary"/> through the interface boxes its struct enumerator (56 B per request, measured in
/// MiddlewareBenchmarks), so the concrete collection's own struct enumerator is used: <see cref="HeaderDictionary"/>
/// directly, Kestrel's internal request-header collection through a delegate bound once per type.
/// </summary>
internal static class IdentityHeaderScrub
{
    private static readonly ConcurrentDictionary<Type, Func<IHeaderDictionary, List<string>?>?> Scanners = new();

    public static void Scrub(IHeaderDictionary headers)
    {
        var spoofed = headers is HeaderDictionary plain ? Scan(plain.GetEnumerator())
            : Scanners.GetOrAdd(headers.GetType(), BindScanner) is { } scan ? scan(headers)
            : Scan(headers.GetEnumerator()); // an unknown collection: correct, just not allocation-free
        if (spoofed is not null)
        {
            foreach (var name in spoofed)
            {
                headers.Remove(name);
            }
        }
    }

    /// <summary>The names to remove, or null (the normal case: nothing allocated).</summary>
    private static List<string>? Scan<TEnumerator>(TEnumerator enumerator) where TEnumerator : IEnumerator<KeyValuePair<string, StringValues>>
    {
        List<string>? spoofed = null;
        while (enumerator.MoveNext())
        {
            var name = enumerator.Current.Key;
            if (IsIdentityHeaderName(name))
            {
                (spoofed ??= []).Add(name);
            }
        }
        return spoofed;
    }

    /// <summary>For a collection with a public struct <c>GetEnumerator()</c>: a scanner calling it without boxing; else null.</summary>
    private static Func<IHeaderDictionary, List<string>?>? BindScanner(Type headersType)
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
            return (Func<IHeaderDictionary, List<string>?>)typeof(IdentityHeaderScrub)
                .GetMethod(nameof(MakeScanner), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(headersType, getEnumerator.ReturnType)
                .Invoke(null, [enumerate])!;
        }
        catch (Exception ex) when (ex is ArgumentException or MethodAccessException or TargetInvocationException)
        {
            return null;
        }
    }

    private static Func<IHeaderDictionary, List<string>?> MakeScanner<THeaders, TEnumerator>(Func<THeaders, TEnumerator> enumerate)
        where TEnumerator : struct, IEnumerator<KeyValuePair<string, StringValues>> =>
        headers => Scan(enumerate((THeaders)headers));

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
