using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Authio.Shared.Webhooks;

/// <summary>
/// The webhook signature: <c>Authio-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex&gt;[,v1=&lt;hex&gt;]</c>, each <c>v1</c> being
/// HMAC-SHA256 under one endpoint secret (the whole <c>whsec_…</c> string as UTF-8 bytes) of <c>t + "." + body</c>. During
/// a secret rotation both secrets sign, so a receiver holding either one verifies. Receivers verify with
/// <see cref="Verify"/> (constant-time compare, 5-minute tolerance by default) before trusting a delivery.
/// </summary>
public static class WebhookSignature
{
    public const string SignatureHeader = "Authio-Signature";
    /// <summary>The event's id: the same on every retry and redelivery, so receivers can drop duplicates.</summary>
    public const string EventIdHeader = "Authio-Event-Id";
    public const string SecretPrefix = "whsec_";

    /// <summary>How far a signature's <c>t</c> may be from the receiver's clock (either way) by default.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>A new endpoint secret: <c>whsec_</c> + 32 random bytes, base64url.</summary>
    public static string NewSecret() =>
        SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The header value for <paramref name="body"/> signed at <paramref name="unixSeconds"/> by every secret given.</summary>
    public static string Sign(long unixSeconds, ReadOnlySpan<byte> body, params ReadOnlySpan<string> secrets)
    {
        var t = unixSeconds.ToString(CultureInfo.InvariantCulture);
        var sb = new StringBuilder("t=").Append(t);
        foreach (var secret in secrets)
        {
            sb.Append(",v1=").Append(Convert.ToHexStringLower(Mac(secret, t, body)));
        }

        return sb.ToString();
    }

    /// <summary>
    /// True when <paramref name="header"/> carries a <c>v1</c> that <paramref name="secret"/> produced over
    /// <paramref name="body"/> and its <c>t</c> is within <paramref name="tolerance"/> (default 5 minutes) of
    /// <paramref name="now"/>. Any malformed header is false, never an exception.
    /// </summary>
    public static bool Verify(string? header, ReadOnlySpan<byte> body, string secret, DateTimeOffset now, TimeSpan? tolerance = null)
    {
        if (string.IsNullOrEmpty(header) || string.IsNullOrEmpty(secret) || header.Length > 4096)
        {
            return false;
        }

        string? t = null;
        var candidates = new List<string>();
        foreach (var part in header.Split(','))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                return false;
            }

            var (key, value) = (part[..eq].Trim(), part[(eq + 1)..].Trim());
            if (key == "t")
            {
                t = value;
            }
            else if (key == "v1")
            {
                candidates.Add(value);
            }
        }
        if (t is null || candidates.Count == 0 || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var signedAt))
        {
            return false;
        }

        var limit = (long)(tolerance ?? DefaultTolerance).TotalSeconds;
        if (Math.Abs(now.ToUnixTimeSeconds() - signedAt) > limit)
        {
            return false;
        }

        var expected = Mac(secret, t, body);
        var ok = false;
        foreach (var candidate in candidates)
        {
            byte[] given;
            try
            {
                given = Convert.FromHexString(candidate);
            }
            catch (FormatException)
            {
                continue;
            }
            // Every candidate is compared in constant time; no early exit reveals which one matched.
            ok |= CryptographicOperations.FixedTimeEquals(given, expected);
        }

        return ok;
    }

    private static byte[] Mac(string secret, string t, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(t + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message);
    }
}
