using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Authio.EdgeProxy.Tokens;
using CsCheck;

namespace Authio.EdgeProxy.Tests.Tokens;

/// <summary>Strict base64url: every byte string round-trips, and every other spelling of it is refused.</summary>
public sealed class Base64UrlStrictPropertyTests
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private static byte[]? Decode(string text)
    {
        var source = Encoding.Latin1.GetBytes(text);
        var buffer = new byte[Base64UrlStrict.MaxDecodedLength(source.Length)];
        return Base64UrlStrict.TryDecode(source, buffer, out var written) ? buffer[..written] : null;
    }

    [Fact]
    public void Every_byte_string_round_trips() =>
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            var encoded = Base64Url.EncodeToString(bytes);
            Assert.Equal(bytes, Decode(encoded));
            Assert.Equal(Base64UrlStrict.MaxDecodedLength(encoded.Length), bytes.Length);
        }, iter: 5000, threads: 1);

    [Fact]
    public void Padding_stray_bits_standard_characters_and_whitespace_are_refused() =>
        Gen.Select(Gen.Byte.Array[1, 100], Gen.Int[0, 3], Gen.Int[1, 15], Gen.Int[0, 1000]).Sample((bytes, kind, bits, at) =>
        {
            var encoded = Base64Url.EncodeToString(bytes);
            string? other = kind switch
            {
                0 when encoded.Length % 4 != 0 => encoded + new string('=', 4 - encoded.Length % 4),
                // The last character carries 4 (length 4k+2) or 2 (4k+3) unused bits; setting any gives another spelling of the same bytes.
                1 when encoded.Length % 4 != 0 => encoded[..^1] + Alphabet[Alphabet.IndexOf(encoded[^1], StringComparison.Ordinal) | (bits & (encoded.Length % 4 == 2 ? 15 : 3))],
                2 when encoded.Contains('-') || encoded.Contains('_') => encoded.Replace('-', '+').Replace('_', '/'),
                3 => encoded.Insert(at % (encoded.Length + 1), at % 2 == 0 ? " " : "\n"),
                _ => null,
            };
            if (other is not null && other != encoded)
            {
                Assert.Null(Decode(other));
            }
        }, iter: 5000, threads: 1);

    [Fact]
    public void Accepts_exactly_the_canonical_encodings_and_never_throws() =>
        Gen.String[Gen.Char[Alphabet + "+/= \n\0é"], 0, 40].Sample(text =>
        {
            var strict = Decode(text);
            // The platform's decoder is lenient (padding, whitespace, stray bits): canonical = it decodes and re-encodes to the same text.
            var source = Encoding.Latin1.GetBytes(text);
            var lenient = new byte[Base64Url.GetMaxDecodedLength(source.Length) + 3];
            var canonical = Base64Url.DecodeFromUtf8(source, lenient, out var consumed, out var written) == OperationStatus.Done
                && consumed == source.Length && Base64Url.EncodeToString(lenient.AsSpan(0, written)) == text;
            Assert.Equal(canonical, strict is not null);
            Assert.Equal(strict is not null && text.Length > 0, Base64UrlStrict.TryDecodeToArray(text) is not null);
        }, iter: 20_000, threads: 1);
}
