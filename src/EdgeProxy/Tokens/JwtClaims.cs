using System.Text.Json;
using Authio.EdgeProxy.Keys;

namespace Authio.EdgeProxy.Tokens;

/// <summary>
/// A raw JSON value inside the decoded payload (quotes and brackets included). Kept as offsets so a successful
/// validation allocates nothing; strings are materialized only when a validated token enters the cache.
/// </summary>
internal readonly record struct JsonSlice(int Start, int Length)
{
    public bool IsPresent => Length > 0;

    public string? GetString(ReadOnlySpan<byte> payload)
    {
        if (!IsPresent)
        {
            return null;
        }
        var reader = new Utf8JsonReader(payload.Slice(Start, Length));
        reader.Read();
        return reader.GetString();
    }

    public string[] GetStringArray(ReadOnlySpan<byte> payload)
    {
        if (!IsPresent)
        {
            return [];
        }
        var reader = new Utf8JsonReader(payload.Slice(Start, Length));
        reader.Read();
        var items = new List<string>();
        while (reader.Read() && reader.TokenType == JsonTokenType.String)
        {
            items.Add(reader.GetString()!);
        }
        return [.. items];
    }
}

/// <summary>What a successful validation yields: the verifying key (and so the issuer), times, and claim slices.</summary>
internal struct JwtClaims
{
    public SigningKey Key;
    public int PayloadLength;
    public long ExpiresAt;
    public long IssuedAt;
    public JsonSlice Subject;
    public JsonSlice Org;
    public JsonSlice SessionId;
    public JsonSlice TokenId;
    /// <summary>The space-separated <c>scope</c> string, when present.</summary>
    public JsonSlice Scope;
    /// <summary>The <c>scp</c> array, when present.</summary>
    public JsonSlice ScopeArray;
    public JsonSlice Role;
    /// <summary><c>auth_time</c> (NumericDate), or <see cref="long.MinValue"/> when the token has none.</summary>
    public long AuthTime;
    /// <summary><c>acr</c> as an <see cref="Shared.Tokens.AuthenticationLevels"/> rank, read at validation: 0 when absent or unknown.</summary>
    public int AcrRank;
}
