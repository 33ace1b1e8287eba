using System.Buffers;
using System.Buffers.Text;

namespace Authio.EdgeProxy.Tokens;

/// <summary>
/// RFC 7515 §2 base64url: no padding, no whitespace, no '+' or '/', and no stray bits in the last character,
/// so every token has exactly one encoding and a re-encoded (tampered) token is never the same bytes.
/// </summary>
internal static class Base64UrlStrict
{
    private static readonly SearchValues<byte> Alphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"u8);

    public static int MaxDecodedLength(int encodedLength) => (encodedLength * 3) >> 2;

    public static bool TryDecode(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
    {
        written = 0;
        var remainder = source.Length & 3;
        if (remainder == 1 || source.IndexOfAnyExcept(Alphabet) >= 0)
        {
            return false;
        }
        if (remainder != 0)
        {
            // The last character carries 4 (remainder 2) or 2 (remainder 3) unused low bits; they must be zero.
            var unusedMask = remainder == 2 ? 0x0F : 0x03;
            if ((ValueOf(source[^1]) & unusedMask) != 0)
            {
                return false;
            }
        }
        return Base64Url.DecodeFromUtf8(source, destination, out _, out written) == OperationStatus.Done;
    }

    public static byte[]? TryDecodeToArray(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 1 << 16)
        {
            return null;
        }
        var utf8 = System.Text.Encoding.ASCII.GetBytes(text);
        var buffer = new byte[MaxDecodedLength(utf8.Length)];
        return TryDecode(utf8, buffer, out var written) ? buffer[..written] : null;
    }

    private static int ValueOf(byte c) => c switch
    {
        >= (byte)'A' and <= (byte)'Z' => c - 'A',
        >= (byte)'a' and <= (byte)'z' => c - 'a' + 26,
        >= (byte)'0' and <= (byte)'9' => c - '0' + 52,
        (byte)'-' => 62,
        _ => 63,
    };
}
