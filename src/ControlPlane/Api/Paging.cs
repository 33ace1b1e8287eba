using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Authio.ControlPlane.Api;

/// <summary>
/// Keyset paging for lists that answer a JSON array (<c>GET /v1/users</c>, <c>/v1/sessions</c>, <c>/v1/orgs</c>): the
/// body stays an array, and when more rows follow, <c>Link: &lt;…&amp;cursor=…&gt;; rel="next"</c> (RFC 8288) names the
/// next page. A cursor is opaque to clients (base64url of the last row's sort key), so it can change shape later.
/// </summary>
internal static class Paging
{
    public const int MaxLimit = 200;
    public const int MaxCursorLength = 600;
    public const string BadCursor = "is not a cursor returned by this endpoint.";

    /// <summary>A cursor for a list named <paramref name="list"/> (so one list's cursor is refused by another).</summary>
    public static string Cursor(string list, params string[] keys) =>
        WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(list + "\n" + string.Join('\n', keys)));

    /// <summary>The sort key a cursor of <paramref name="list"/> carries, in its <paramref name="parts"/> parts; null when malformed.</summary>
    public static string[]? Keys(string cursor, string list, int parts)
    {
        try
        {
            var keys = Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(cursor)).Split('\n');
            return keys.Length == parts + 1 && keys[0] == list ? keys[1..] : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public static bool TryLong(string text, out long value) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>Sets <c>Link: rel="next"</c>: this request's path and query with <c>cursor</c> replaced.</summary>
    public static void Next(HttpContext http, string? cursor)
    {
        if (cursor is null)
        {
            return;
        }

        var query = http.Request.Query.Where(q => q.Key != "cursor")
            .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))
            .Append(new KeyValuePair<string, string?>("cursor", cursor));
        var url = QueryHelpers.AddQueryString(http.Request.PathBase + http.Request.Path, query);
        http.Response.Headers.Append("Link", $"<{url}>; rel=\"next\"");
    }
}
