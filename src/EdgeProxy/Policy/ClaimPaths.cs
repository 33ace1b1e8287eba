using System.Text;
using System.Text.Json;
using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.Policy;

/// <summary>
/// Every claim path any route maps to a header (<c>Authio.ClaimHeaders</c>), each with a stable index. Append-only:
/// a reload adds the paths it introduces and never renumbers, so an identity computed before a reload stays valid for
/// the paths it has and computes the new ones once, from its kept payload (<see cref="EdgeIdentity.ClaimValue"/>).
/// Process-wide because identities are built where no route is known; a path no route uses any more only costs its
/// lookup when a new credential is validated.
/// </summary>
internal static class ClaimPaths
{
    private static readonly Lock Gate = new();
    private static volatile string[][] _paths = [];
    private static readonly Dictionary<string, int> Indexes = new(StringComparer.Ordinal);

    /// <summary>The path segments by index (a snapshot: never mutated once published).</summary>
    public static string[][] Current => _paths;

    /// <summary>The index of <paramref name="path"/> (dot-separated), registering it on first use.</summary>
    public static int Register(string path)
    {
        lock (Gate)
        {
            if (Indexes.TryGetValue(path, out var index))
            {
                return index;
            }
            index = _paths.Length;
            _paths = [.. _paths, path.Split('.')];
            Indexes[path] = index;
            return index;
        }
    }

    /// <summary>Marks a claim value that must not be sent: it holds a control character. Compared by reference.</summary>
    public static readonly string Unsafe = new('\0', 1);

    /// <summary>Longest header value a claim may produce; longer values are treated like unsafe ones.</summary>
    public const int MaxValueLength = 4096;

    /// <summary>
    /// The header value of every path in <paramref name="paths"/> from a validated payload: strings as they are, numbers
    /// and booleans as their JSON text, arrays of those joined by a space; null when absent, null or an object;
    /// <see cref="Unsafe"/> when it holds a control character; non-ASCII percent-encoded (<see cref="IdentityHeaderValue"/>).
    /// </summary>
    public static string?[] Compute(ReadOnlySpan<byte> payload, string[][] paths)
    {
        if (paths.Length == 0)
        {
            return [];
        }
        var values = new string?[paths.Length];
        for (var i = 0; i < paths.Length; i++)
        {
            values[i] = ValueAt(payload, paths[i]);
        }
        return values;
    }

    private static string? ValueAt(ReadOnlySpan<byte> payload, string[] path)
    {
        try
        {
            var reader = new Utf8JsonReader(payload);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            for (var depth = 0; depth < path.Length; depth++)
            {
                if (!FindMember(ref reader, path[depth]))
                {
                    return null;
                }
                reader.Read();
                if (depth < path.Length - 1 && reader.TokenType != JsonTokenType.StartObject)
                {
                    return null;
                }
            }
            string? text;
            if (reader.TokenType == JsonTokenType.StartArray)
            {
                var joined = new StringBuilder();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (Scalar(ref reader) is not { } item)
                    {
                        return null; // nested arrays or objects have no header form
                    }
                    if (ReferenceEquals(item, Unsafe))
                    {
                        return Unsafe;
                    }
                    joined.Append(joined.Length == 0 ? "" : " ").Append(item);
                }
                text = joined.ToString();
            }
            else
            {
                text = Scalar(ref reader);
            }
            if (text is null || ReferenceEquals(text, Unsafe))
            {
                return text;
            }
            return text.Length > MaxValueLength ? Unsafe : IdentityHeaderValue.Encode(text);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return Unsafe; // e.g. an escaped lone surrogate: no faithful header form
        }
    }

    /// <summary>Advances to the member <paramref name="name"/> of the object the reader is at the start of.</summary>
    private static bool FindMember(ref Utf8JsonReader reader, string name)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name))
            {
                return true;
            }
            reader.Read();
            reader.Skip();
        }
        return false;
    }

    private static string? Scalar(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                var value = reader.GetString()!;
                foreach (var c in value)
                {
                    if (char.IsControl(c))
                    {
                        return Unsafe; // C0, DEL and C1: no header injection, no truncation
                    }
                }
                return value;
            case JsonTokenType.Number:
                return Encoding.UTF8.GetString(reader.ValueSpan);
            case JsonTokenType.True:
                return "true";
            case JsonTokenType.False:
                return "false";
            default:
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                }
                return null;
        }
    }
}
