using System.Security.Cryptography;
using System.Text;
using OtpNet;
using QRCoder;

namespace Authio.ControlPlane.Mfa;

/// <summary>RFC 6238 TOTP (SHA-1, 6 digits, 30 s, as authenticator apps expect) and the enrolment QR code.</summary>
internal static class TotpCodes
{
    public const int SecretBytes = 20;

    /// <summary>Steps accepted either side of now: ±1 (±30 s) for clock drift and typing time.</summary>
    private static readonly VerificationWindow Window = new(previous: 1, future: 1);

    public static string Base32(byte[] secret) => Base32Encoding.ToString(secret).TrimEnd('=');

    public static string Uri(byte[] secret, string issuer, string account) =>
        $"otpauth://totp/{System.Uri.EscapeDataString(issuer)}:{System.Uri.EscapeDataString(account)}?secret={Base32(secret)}" +
        $"&issuer={System.Uri.EscapeDataString(issuer)}&algorithm=SHA1&digits=6&period=30";

    public static (string Svg, string PngDataUri) Qr(string uri)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(uri, QRCodeGenerator.ECCLevel.M);
        var svg = new SvgQRCode(data).GetGraphic(4);
        var png = new PngByteQRCode(data).GetGraphic(4);
        return (svg, "data:image/png;base64," + Convert.ToBase64String(png));
    }

    /// <summary>Six digits (spaces ignored), or null for anything else.</summary>
    public static string? Normalize(string? code)
    {
        var digits = code?.Replace(" ", "", StringComparison.Ordinal);
        return digits is { Length: 6 } && digits.All(char.IsAsciiDigit) ? digits : null;
    }

    /// <summary>The time step the code belongs to (within ±1 step of <paramref name="now"/>), or null.</summary>
    public static long? Match(byte[] secret, string code, DateTimeOffset now) =>
        new Totp(secret).VerifyTotp(now.UtcDateTime, code, out var step, Window) ? step : null;
}

/// <summary>
/// Recovery codes: 10 per user, 10 characters each from an unambiguous alphabet (~49 bits), shown once as
/// <c>xxxxx-xxxxx</c>, stored as HMAC-SHA256 under a key derived from the master key and bound to the user.
/// </summary>
internal static class RecoveryCodes
{
    public const int Count = 10;
    private const string Alphabet = "abcdefghjkmnpqrstuvwxyz23456789";

    public static List<string> New()
    {
        var codes = new List<string>(Count);
        for (var i = 0; i < Count; i++)
        {
            var chars = RandomNumberGenerator.GetItems<char>(Alphabet, 10);
            codes.Add(new string(chars, 0, 5) + "-" + new string(chars, 5, 5));
        }
        return codes;
    }

    /// <summary>Lower case without separators, or null when it cannot be a recovery code.</summary>
    public static string? Normalize(string? code)
    {
        var s = code?.Replace("-", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();
        return s is { Length: 10 } && s.All(Alphabet.Contains) ? s : null;
    }

    public static string Hash(byte[] key, string userId, string normalized) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(userId + ":" + normalized)));
}
