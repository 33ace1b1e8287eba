using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Keys;

namespace Authio.EdgeProxy.Tokens;

internal sealed partial class JwtValidator
{
    [SkipLocalsInit]
    private EdgeError? ParsePayload(ReadOnlySpan<byte> json, TrustedIssuer issuer, ref JwtClaims claims)
    {
        Span<byte> nameArena = stackalloc byte[2048];
        Span<int> nameEnds = stackalloc int[MaxPayloadMembers];
        var nameCount = 0;
        Span<byte> scratch = stackalloc byte[ClaimScratchBytes];
        bool hasIssuer = false, audienceMatched = false, hasExpiry = false;
        long notBefore = long.MinValue;
        claims.IssuedAt = long.MinValue;
        claims.AuthTime = long.MinValue;
        try
        {
            scoped Utf8JsonReader reader = new(json, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return EdgeError.MalformedPayload;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!MemberNames.TryAdd(ref reader, nameArena, nameEnds, ref nameCount))
                {
                    return EdgeError.DuplicateMember;
                }
                EdgeError? claimError = null;
                if (reader.ValueTextEquals("iss"u8))
                {
                    reader.Read();
                    hasIssuer = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(issuer.NameUtf8);
                    claimError = hasIssuer ? null : EdgeError.WrongIssuer;
                }
                else if (reader.ValueTextEquals("aud"u8))
                {
                    claimError = ReadAudience(ref reader, issuer, out audienceMatched);
                }
                else if (reader.ValueTextEquals("exp"u8))
                {
                    hasExpiry = TryReadNumericDate(ref reader, out claims.ExpiresAt);
                    claimError = hasExpiry ? null : EdgeError.MissingExpiry;
                }
                else if (reader.ValueTextEquals("nbf"u8))
                {
                    claimError = TryReadNumericDate(ref reader, out notBefore) ? null : EdgeError.InvalidClaim;
                }
                else if (reader.ValueTextEquals("iat"u8))
                {
                    claimError = TryReadNumericDate(ref reader, out claims.IssuedAt) ? null : EdgeError.InvalidClaim;
                }
                else if (reader.ValueTextEquals("sub"u8))
                {
                    claimError = TryReadHeaderSafeString(ref reader, scratch, out claims.Subject) ? null : EdgeError.InvalidSubject;
                }
                else if (reader.ValueTextEquals("org"u8))
                {
                    claimError = TryReadHeaderSafeString(ref reader, scratch, out claims.Org) ? null : EdgeError.InvalidClaim;
                }
                else if (reader.ValueTextEquals("sid"u8))
                {
                    claimError = TryReadHeaderSafeString(ref reader, scratch, out claims.SessionId) ? null : EdgeError.InvalidClaim;
                }
                else if (reader.ValueTextEquals("jti"u8))
                {
                    claimError = TryReadHeaderSafeString(ref reader, scratch, out claims.TokenId) ? null : EdgeError.InvalidClaim;
                }
                else if (reader.ValueTextEquals("scope"u8))
                {
                    claimError = TryReadHeaderSafeString(ref reader, scratch, out claims.Scope) ? null : EdgeError.InvalidClaim;
                }
                else if (reader.ValueTextEquals("scp"u8))
                {
                    claimError = TryReadHeaderSafeStringArray(ref reader, scratch, out claims.ScopeArray) ? null : EdgeError.InvalidClaim;
                }
                else if (reader.ValueTextEquals("role"u8))
                {
                    claimError = TryReadHeaderSafeString(ref reader, scratch, out claims.Role) ? null : EdgeError.InvalidClaim;
                }
                else if (reader.ValueTextEquals("auth_time"u8))
                {
                    claimError = TryReadNumericDate(ref reader, out claims.AuthTime) ? null : EdgeError.InvalidClaim;
                }
                else if (reader.ValueTextEquals("acr"u8))
                {
                    claimError = TryReadAcrRank(ref reader, out claims.AcrRank) ? null : EdgeError.InvalidClaim;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
                if (claimError is not null)
                {
                    return claimError;
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return EdgeError.MalformedPayload;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException) // malformed JSON or invalid UTF-8 in an escaped string
        {
            return EdgeError.MalformedPayload;
        }

        if (!hasIssuer)
        {
            return EdgeError.WrongIssuer;
        }
        if (!audienceMatched)
        {
            return EdgeError.WrongAudience;
        }
        if (!hasExpiry)
        {
            return EdgeError.MissingExpiry;
        }
        if (!claims.Subject.IsPresent)
        {
            return EdgeError.InvalidSubject;
        }
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        if (now >= SaturatingAdd(claims.ExpiresAt, _skewSeconds))
        {
            return EdgeError.Expired;
        }
        if (notBefore > claims.ExpiresAt)
        {
            // The skew would otherwise admit such a token for up to twice its width around the two instants.
            return EdgeError.NeverValid;
        }
        if (notBefore != long.MinValue && SaturatingAdd(now, _skewSeconds) < notBefore)
        {
            return EdgeError.NotYetValid;
        }
        if (claims.IssuedAt != long.MinValue && SaturatingAdd(now, _skewSeconds) < claims.IssuedAt)
        {
            return EdgeError.IssuedInFuture;
        }
        return null;
    }

    private static EdgeError? ReadAudience(ref Utf8JsonReader reader, TrustedIssuer issuer, out bool matched)
    {
        matched = false;
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            matched = AudienceMatches(ref reader, issuer);
            return null;
        }
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return EdgeError.InvalidClaim;
        }
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                return EdgeError.InvalidClaim;
            }
            matched |= AudienceMatches(ref reader, issuer);
        }
        return null;
    }

    private static bool AudienceMatches(ref Utf8JsonReader reader, TrustedIssuer issuer)
    {
        foreach (var audience in issuer.Audiences)
        {
            if (reader.ValueTextEquals(audience))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>RFC 7519 NumericDate: a JSON number of seconds, fractions floored, saturated to the long range.</summary>
    private static bool TryReadNumericDate(ref Utf8JsonReader reader, out long seconds)
    {
        reader.Read();
        seconds = 0;
        if (reader.TokenType != JsonTokenType.Number)
        {
            return false;
        }
        if (reader.TryGetInt64(out seconds))
        {
            return true;
        }
        if (!reader.TryGetDouble(out var value))
        {
            return false;
        }
        seconds = value >= long.MaxValue ? long.MaxValue : value <= long.MinValue + 1 ? long.MinValue + 1 : (long)Math.Floor(value);
        return true;
    }

    /// <summary>
    /// <c>acr</c> as its rank, compared in place against the known levels' UTF-8 names (URN or short name, as
    /// <see cref="Shared.Tokens.AuthenticationLevels.Rank"/>): a cache hit compares an int, nothing is kept as text.
    /// </summary>
    private static bool TryReadAcrRank(ref Utf8JsonReader reader, out int rank)
    {
        reader.Read();
        rank = 0;
        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }
        rank = reader.ValueTextEquals("urn:authio:acr:pwd"u8) || reader.ValueTextEquals("pwd"u8) ? 1
            : reader.ValueTextEquals("urn:authio:acr:mfa"u8) || reader.ValueTextEquals("mfa"u8) ? 2
            : reader.ValueTextEquals("urn:authio:acr:phr"u8) || reader.ValueTextEquals("phr"u8) ? 3
            : 0;
        return true;
    }

    private static bool TryReadHeaderSafeString(ref Utf8JsonReader reader, Span<byte> scratch, out JsonSlice slice)
    {
        reader.Read();
        slice = default;
        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }
        var start = (int)reader.TokenStartIndex;
        if (!IsHeaderSafe(ref reader, scratch))
        {
            return false;
        }
        slice = new JsonSlice(start, (int)reader.BytesConsumed - start);
        return true;
    }

    private static bool TryReadHeaderSafeStringArray(ref Utf8JsonReader reader, Span<byte> scratch, out JsonSlice slice)
    {
        reader.Read();
        slice = default;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }
        var start = (int)reader.TokenStartIndex;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String || !IsHeaderSafe(ref reader, scratch))
            {
                return false;
            }
        }
        slice = new JsonSlice(start, (int)reader.BytesConsumed - start);
        return true;
    }

    /// <summary>
    /// Claims become upstream header values: valid UTF-8 with no C0, DEL or C1 control character (no CR/LF header
    /// injection, no NUL truncation). Raw JSON strings cannot hold C0, so only escaped ones need unescaping first.
    /// </summary>
    private static bool IsHeaderSafe(ref Utf8JsonReader reader, Span<byte> scratch)
    {
        if (!reader.ValueIsEscaped)
        {
            return IsHeaderSafe(reader.ValueSpan);
        }
        var raw = reader.ValueSpan;
        byte[]? rented = null;
        var buffer = raw.Length <= scratch.Length ? scratch : (rented = ArrayPool<byte>.Shared.Rent(raw.Length));
        try
        {
            return IsHeaderSafe(buffer[..reader.CopyString(buffer)]);
        }
        catch (InvalidOperationException)
        {
            return false; // invalid escapes such as lone surrogates
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    internal static bool IsHeaderSafe(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IndexOfAnyInRange((byte)0x00, (byte)0x1F) >= 0 || utf8.Contains((byte)0x7F) || !IsValidUtf8(utf8))
        {
            return false;
        }
        // C1 controls U+0080..U+009F are encoded as C2 80..C2 9F.
        for (var i = utf8.IndexOf((byte)0xC2); i >= 0 && i + 1 < utf8.Length; i = NextC2(utf8, i))
        {
            if (utf8[i + 1] is >= 0x80 and <= 0x9F)
            {
                return false;
            }
        }
        return true;
    }

    private static int NextC2(ReadOnlySpan<byte> utf8, int current)
    {
        var next = utf8[(current + 1)..].IndexOf((byte)0xC2);
        return next < 0 ? -1 : current + 1 + next;
    }

    private static long SaturatingAdd(long value, long delta) =>
        value > long.MaxValue - delta ? long.MaxValue : value + delta;
}
