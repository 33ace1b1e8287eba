using System.Text.Json;

namespace Authio.ControlPlane.Storage;

/// <summary>LIKE patterns for finding a value inside stored text; use with <c>ESCAPE '\'</c> (SQLite has no default escape).</summary>
internal static class SqlLike
{
    /// <summary>Matches <paramref name="value"/> anywhere, as written.</summary>
    public static string Anywhere(string value) => "%" + Escape(value) + "%";

    /// <summary>Matches <paramref name="value"/> anywhere inside stored JSON, escaped as System.Text.Json writes it (<c>+</c> → <c>\u002B</c>).</summary>
    public static string AnywhereInJson(string value) => "%" + Escape(JsonSerializer.Serialize(value)[1..^1]) + "%";

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
