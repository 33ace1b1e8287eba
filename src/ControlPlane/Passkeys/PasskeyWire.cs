using System.Buffers.Text;
using System.Formats.Cbor;
using System.Text;
using System.Text.Json;

namespace Authio.ControlPlane.Passkeys;

/// <summary>Reading what browsers send, and the encodings stored: nothing here throws on hostile input.</summary>
internal static class PasskeyWire
{
    /// <summary>Authenticator data flag bits (WebAuthn §6.1).</summary>
    private const byte BackupEligibleFlag = 0x08;
    private const int FlagsOffset = 32;

    // The library's models carry their own names and base64url converters; numbers stay strict as in every request.
    private static readonly JsonSerializerOptions Strict = new() { MaxDepth = 16 };

    /// <summary>The WebAuthn user handle of a user: its id's UTF-8 bytes (under 64 bytes, no personal data).</summary>
    public static byte[] UserHandle(string userId) => Encoding.UTF8.GetBytes(userId);

    public static string Encode(ReadOnlySpan<byte> bytes) => Base64Url.EncodeToString(bytes);

    public static byte[] Decode(string text) => Base64Url.DecodeFromChars(text);

    /// <summary>The library's model of a response, or null when the JSON does not have its shape.</summary>
    public static T? Read<T>(JsonElement? json) where T : class
    {
        if (json is not { ValueKind: JsonValueKind.Object } element)
        {
            return null;
        }

        try
        {
            return element.Deserialize<T>(Strict);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether an ECDSA signature is exactly one DER SEQUENCE. The library verifies the sequence and ignores bytes after
    /// it; refusing them keeps one valid encoding per signature (no malleable variants). Other key types pass.
    /// </summary>
    public static bool SignatureIsExact(string cosePublicKey, byte[]? signature)
    {
        if (signature is null || !IsEc2(cosePublicKey))
        {
            return true;
        }

        // ES256/384/512 signatures are under 140 bytes: a short-form length, or one length byte (0x81).
        return signature.Length >= 2 && signature[0] == 0x30 && (signature[1] < 0x80
            ? signature.Length == signature[1] + 2
            : signature[1] == 0x81 && signature.Length >= 3 && signature.Length == signature[2] + 3);
    }

    private static bool IsEc2(string cosePublicKey)
    {
        try
        {
            var reader = new CborReader(Decode(cosePublicKey), CborConformanceMode.Lax);
            var count = reader.ReadStartMap() ?? 0;
            for (var i = 0; i < count; i++)
            {
                if (reader.PeekState() == CborReaderState.UnsignedInteger && reader.ReadInt32() == 1)
                {
                    return reader.PeekState() == CborReaderState.UnsignedInteger && reader.ReadInt32() == 2;
                }

                reader.SkipValue();
            }
        }
        catch (Exception ex) when (ex is CborContentException or InvalidOperationException or FormatException or OverflowException)
        {
            return false;
        }

        return false;
    }

    /// <summary>Whether the authenticator says the credential may be synced to other devices (BE flag).</summary>
    public static bool BackupEligible(byte[]? authenticatorData) =>
        authenticatorData is { Length: > FlagsOffset } && (authenticatorData[FlagsOffset] & BackupEligibleFlag) != 0;
}
