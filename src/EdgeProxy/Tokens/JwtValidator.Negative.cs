using System.Text.Json;
using Authio.EdgeProxy.Errors;

namespace Authio.EdgeProxy.Tokens;

internal sealed partial class JwtValidator
{
    /// <summary>
    /// How long a claim failure that depends on configuration a sync can change at run time (issuers, audiences, a
    /// key's org) is held before the token is checked again: one signature check per such token per 5 minutes.
    /// </summary>
    public const long ConfigDependentHoldSeconds = 300;

    /// <summary>
    /// For a token whose signature verified but whose claims failed with <paramref name="error"/>: the Unix second
    /// (exclusive) until which the same bytes get the same answer, so the negative cache can answer them without a
    /// signature check. <paramref name="payload"/> is the decoded payload (empty when it did not decode).
    /// Off the hot path: runs once per distinct failing token.
    /// </summary>
    public long FailureHoldsUntil(EdgeError error, ReadOnlySpan<byte> payload, long nowUnix)
    {
        // Expired can never become valid; a malformed claim set a trusted key signed depends on its bytes only. (The
        // validator reports aud/iss and shape before expiry, so those answers do not change when exp passes either.)
        if (ReferenceEquals(error, EdgeError.Expired) || ReferenceEquals(error, EdgeError.MissingExpiry)
            || ReferenceEquals(error, EdgeError.InvalidSubject) || ReferenceEquals(error, EdgeError.InvalidClaim)
            || ReferenceEquals(error, EdgeError.MalformedPayload) || ReferenceEquals(error, EdgeError.DuplicateMember)
            || ReferenceEquals(error, EdgeError.Malformed) || ReferenceEquals(error, EdgeError.NeverValid))
        {
            return long.MaxValue;
        }
        if (ReferenceEquals(error, EdgeError.NotYetValid) || ReferenceEquals(error, EdgeError.IssuedInFuture))
        {
            // Valid from nbf (or iat) − skew on: held until then, never longer than the config-dependent hold.
            var member = ReferenceEquals(error, EdgeError.NotYetValid) ? "nbf"u8 : "iat"u8;
            return TryReadTopLevelDate(payload, member, out var at)
                ? Math.Min(at - _skewSeconds, nowUnix + ConfigDependentHoldSeconds)
                : nowUnix;
        }
        // Wrong issuer or audience, key-org mismatch: fixed by the token's bytes unless configuration changes.
        return nowUnix + ConfigDependentHoldSeconds;
    }

    private static bool TryReadTopLevelDate(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> name, out long seconds)
    {
        seconds = 0;
        try
        {
            var reader = new Utf8JsonReader(payload, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(name))
                {
                    return TryReadNumericDate(ref reader, out seconds);
                }
                reader.Read();
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return false;
    }
}
