using System.Buffers;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>What <see cref="PathHygiene.Inspect"/> found in a request target's path.</summary>
internal enum PathVerdict
{
    Clean,
    /// <summary>An encoded '/' or '\' (<c>%2F</c>, <c>%5C</c>, also double-encoded <c>%252F</c>, <c>%255C</c>) or a literal '\': refused unless the route sets <c>Authio.AllowEncodedSlashes</c>.</summary>
    EncodedSeparator,
    /// <summary>A '.' or '..' segment after decoding: always refused.</summary>
    DotSegment,
}

/// <summary>
/// Inspects the raw request target (<c>IHttpRequestFeature.RawTarget</c>, what the client sent), not
/// <c>Request.Path</c>: Kestrel has already decoded the path (all but <c>%2F</c>) and removed its dot segments, so
/// routing matches a path the client never spelled, and YARP re-encodes that path for the upstream. An upstream that
/// decodes again, or treats '\' as '/', could then act on another path than the one the route matched
/// (<c>/public/..%2Fadmin</c>, <c>/public/x%5C..%5Cadmin</c>). Refusing those spellings up front leaves one
/// meaning per path. Decoding is applied twice (<c>%252F</c> → <c>%2F</c> → '/') because YARP forwards Kestrel's
/// once-decoded <c>%2F</c> as <c>%252F</c>, one decode away from a separator. A clean path costs one vectorized scan, 0 B.
/// </summary>
internal static class PathHygiene
{
    // Nothing to decode and no backslash: the common case, where only a literal "/." can start a dot segment.
    private static readonly SearchValues<char> Escapes = SearchValues.Create("%\\");

    public static PathVerdict Inspect(ReadOnlySpan<char> rawTarget)
    {
        var path = PathOf(rawTarget);
        return path.IndexOfAny(Escapes) < 0 ? InspectLiteral(path) : InspectDecoded(path);
    }

    /// <summary>A path without escapes or backslashes: vectorized search for "/." and a look at what follows.</summary>
    private static PathVerdict InspectLiteral(ReadOnlySpan<char> path)
    {
        while (true)
        {
            var at = path.IndexOf("/.", StringComparison.Ordinal);
            if (at < 0)
            {
                return PathVerdict.Clean;
            }
            var rest = path[(at + 2)..];
            if (rest.IsEmpty || rest[0] == '/' || (rest[0] == '.' && (rest.Length == 1 || rest[1] == '/')))
            {
                return PathVerdict.DotSegment;
            }
            path = rest;
        }
    }

    private static PathVerdict InspectDecoded(ReadOnlySpan<char> path)
    {
        var verdict = PathVerdict.Clean;
        var segmentLength = 0; // decoded characters in the current segment
        var dots = 0;          // of which '.'
        var i = 0;
        while (i <= path.Length)
        {
            char c;
            var encoded = false;
            if (i == path.Length)
            {
                c = '/'; // the end closes the last segment
                i++;
            }
            else
            {
                c = path[i];
                if (c == '%' && TryDecode(path, i, out var decoded, out var consumed))
                {
                    c = decoded;
                    encoded = true;
                    i += consumed;
                }
                else
                {
                    i++;
                }
            }
            if (c is '/' or '\\')
            {
                if (segmentLength > 0 && segmentLength == dots && dots <= 2)
                {
                    return PathVerdict.DotSegment;
                }
                if (encoded || c == '\\')
                {
                    verdict = PathVerdict.EncodedSeparator;
                }
                segmentLength = 0;
                dots = 0;
                continue;
            }
            segmentLength++;
            if (c == '.')
            {
                dots++;
            }
        }
        return verdict;
    }

    /// <summary>The path part of an origin-form or absolute-form target, without query or fragment.</summary>
    private static ReadOnlySpan<char> PathOf(ReadOnlySpan<char> target)
    {
        if (target.Length > 0 && target[0] != '/')
        {
            // absolute-form (http://host/path): the path starts at the first '/' after the authority; '*' and
            // authority-form have no path.
            var scheme = target.IndexOf("://", StringComparison.Ordinal);
            if (scheme < 0)
            {
                return [];
            }
            target = target[(scheme + 3)..];
            var start = target.IndexOfAny('/', '?', '#');
            if (start < 0 || target[start] != '/')
            {
                return [];
            }
            target = target[start..];
        }
        var end = target.IndexOfAny('?', '#');
        return end < 0 ? target : target[..end];
    }

    /// <summary>
    /// Decodes <c>%XX</c> at <paramref name="i"/>, and once more when the result is itself the start of an escape
    /// (<c>%25XX</c>): what an upstream sees after decoding what YARP forwarded.
    /// </summary>
    private static bool TryDecode(ReadOnlySpan<char> path, int i, out char decoded, out int consumed)
    {
        decoded = default;
        consumed = 0;
        if (!TryHexByte(path, i + 1, out var value))
        {
            return false;
        }
        consumed = 3;
        if (value == '%' && i + 3 < path.Length && TryHexByte(path, i + 3, out var inner))
        {
            value = inner;
            consumed = 5;
        }
        decoded = (char)value;
        return true;
    }

    private static bool TryHexByte(ReadOnlySpan<char> path, int at, out int value)
    {
        value = 0;
        if (at + 1 >= path.Length)
        {
            return false;
        }
        var high = HexValue(path[at]);
        var low = HexValue(path[at + 1]);
        if (high < 0 || low < 0)
        {
            return false;
        }
        value = (high << 4) | low;
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
