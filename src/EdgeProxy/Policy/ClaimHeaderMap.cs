using Authio.EdgeProxy.Errors;
using Authio.Shared.Tokens;

namespace Authio.EdgeProxy.Policy;

/// <summary>One <c>Authio.ClaimHeaders</c> entry compiled: the upstream header, the claim path's index, and its refusal.</summary>
internal sealed class ClaimHeader(string header, string path, int index)
{
    public string Header { get; } = header;
    public string Path { get; } = path;
    /// <summary>Index into <see cref="ClaimPaths"/> (and every identity's claim values).</summary>
    public int Index { get; } = index;
    /// <summary>Built once: the 401 a request gets when its claim cannot be sent as a header value.</summary>
    public EdgeError UnsafeValue { get; } = EdgeError.Unauthorized(
        $"The token's claim '{path}' cannot be sent as header {header}: it contains control characters or is too long.");
}

/// <summary>Parses <c>Authio.ClaimHeaders</c>: <c>X-Team=teams,X-Role=role</c>; nested claims by dot (<c>a.b</c>).</summary>
internal static class ClaimHeaderMap
{
    public const int MaxEntries = 32;

    /// <summary>Headers a claim may never set: credentials, routing, framing, and the edge's own identity headers.</summary>
    private static readonly HashSet<string> Refused = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Proxy-Authorization", "Host", "Cookie", "Set-Cookie", "Content-Length", "Content-Type", "Transfer-Encoding",
        "Connection", "Upgrade", "TE", "Trailer", "Keep-Alive", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
        "X-HTTP-Method-Override", "X-Method-Override", "X-Original-URL", "X-Rewrite-URL",
    };

    public static bool TryParse(string routeId, string text, out ClaimHeader[] headers, out string? error)
    {
        headers = [];
        error = null;
        var entries = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (entries.Length == 0 || entries.Length > MaxEntries)
        {
            error = $"must list 1 to {MaxEntries} 'Header=claim' pairs separated by commas";
            return false;
        }
        var parsed = new List<(string Header, string Path)>();
        foreach (var entry in entries)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == entry.Length - 1)
            {
                error = $"'{entry}' is not 'Header=claim'";
                return false;
            }
            var header = entry[..equals].Trim();
            var path = entry[(equals + 1)..].Trim();
            if (!IsToken(header))
            {
                error = $"'{header}' is not a valid header name";
                return false;
            }
            if (Refused.Contains(header) || header.StartsWith(IdentityHeaders.Prefix, StringComparison.OrdinalIgnoreCase)
                || header.Replace('_', '-').StartsWith(IdentityHeaders.Prefix, StringComparison.OrdinalIgnoreCase))
            {
                error = $"header '{header}' may not be set from a claim";
                return false;
            }
            if (!IsClaimPath(path))
            {
                error = $"'{path}' is not a claim path (names of letters, digits, '_', '-', ':' or '/', nested by '.')";
                return false;
            }
            if (parsed.Exists(p => string.Equals(p.Header, header, StringComparison.OrdinalIgnoreCase)))
            {
                error = $"header '{header}' is mapped twice";
                return false;
            }
            parsed.Add((header, path));
        }
        headers = [.. parsed.Select(p => new ClaimHeader(p.Header, p.Path, ClaimPaths.Register(p.Path)))];
        return true;
    }

    /// <summary>RFC 9110 token.</summary>
    private static bool IsToken(string name) =>
        name.Length is > 0 and <= 100 && name.All(c => c < 0x7F && (char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)));

    private static bool IsClaimPath(string path) =>
        path.Length is > 0 and <= 200 && path.Split('.').All(segment =>
            segment.Length > 0 && segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or ':' or '/'));
}
