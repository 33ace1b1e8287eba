using System.Buffers.Binary;
using System.Buffers.Text;
using System.Formats.Cbor;
using System.Text;
using System.Text.Json.Nodes;

namespace Authio.ControlPlane.Tests.Passkeys;

/// <summary>
/// Seeded mutations of a browser's WebAuthn answer: byte flips, truncation and junk in the base64url fields, broken
/// base64url, missing fields, wrong JSON types, huge values, and structurally hostile CBOR, COSE and clientDataJSON.
/// </summary>
internal static class PasskeyFuzz
{
    /// <summary>Mutations that touch bytes covered by an assertion's signature (or its challenge): none may ever verify.</summary>
    public static bool TouchesSignedBytes(string what) =>
        what.Contains("authenticatorData", StringComparison.Ordinal) || what.Contains("clientDataJSON", StringComparison.Ordinal)
        || what.Contains("signature", StringComparison.Ordinal);

    /// <summary>One mutation of <paramref name="credential"/> (a PublicKeyCredential JSON); returns what was done and the new JSON value.</summary>
    public static (string What, JsonNode? Value) Mutate(Random rng, JsonObject credential)
    {
        var copy = credential.DeepClone().AsObject();
        var response = copy["response"]!.AsObject();
        var binary = response.Where(p => p.Value?.GetValueKind() == System.Text.Json.JsonValueKind.String).Select(p => p.Key).ToArray();
        var field = binary[rng.Next(binary.Length)];
        var bytes = Base64Url.DecodeFromChars((string)response[field]!);
        switch (rng.Next(16))
        {
            case 0:
            case 1:
                var flipped = (byte[])bytes.Clone();
                var flips = rng.Next(1, 5);
                for (var i = 0; i < flips && flipped.Length > 0; i++)
                {
                    flipped[rng.Next(flipped.Length)] ^= (byte)rng.Next(1, 256);
                }

                response[field] = Base64Url.EncodeToString(flipped);
                return ($"{field}: {flips} byte flips", copy);
            case 2:
                response[field] = Base64Url.EncodeToString(bytes[..rng.Next(bytes.Length)]);
                return ($"{field}: truncated", copy);
            case 3:
                var extra = rng.Next(4) == 0 ? 200_000 : rng.Next(1, 64);
                response[field] = Base64Url.EncodeToString([.. bytes, .. Random(rng, extra)]);
                return ($"{field}: {extra} junk bytes appended", copy);
            case 4:
                response[field] = Base64Url.EncodeToString(Random(rng, rng.Next(0, 300)));
                return ($"{field}: random bytes", copy);
            case 5:
                string[] broken = ["***", "a", "=", "ab=c", " ", "é", "%00", "AAAA====", "\u0001", "+/+/"];
                response[field] = broken[rng.Next(broken.Length)];
                return ($"{field}: not base64url", copy);
            case 6:
                var (holder, key) = AnyField(rng, copy);
                holder.Remove(key);
                return ($"{key}: missing", copy);
            case 7:
                (holder, key) = AnyField(rng, copy);
                JsonNode?[] wrong = [JsonValue.Create(12), JsonValue.Create(true), new JsonArray(1, 2), new JsonObject { ["a"] = 1 }, null,
                    JsonValue.Create(1e308), JsonValue.Create(-1), JsonValue.Create(long.MaxValue), JsonValue.Create("")];
                var value = wrong[rng.Next(wrong.Length)];
                holder[key] = value;
                return ($"{key}: wrong type {value?.ToJsonString() ?? "null"}", copy);
            case 8:
                (holder, key) = AnyField(rng, copy);
                holder[key] = new string('A', 300_000);
                return ($"{key}: 300 KB", copy);
            case 9:
                if (response.ContainsKey("attestationObject"))
                {
                    var (what, cbor) = HostileAttestationObject(rng, AuthData(Base64Url.DecodeFromChars((string)response["attestationObject"]!)));
                    response["attestationObject"] = Base64Url.EncodeToString(cbor);
                    return ($"attestationObject: {what}", copy);
                }

                response["authenticatorData"] = Base64Url.EncodeToString(HostileAuthData(rng, Base64Url.DecodeFromChars((string)response["authenticatorData"]!), out var did));
                return ($"authenticatorData: {did}", copy);
            case 10:
                var (cwhat, clientData) = HostileClientData(rng, Encoding.UTF8.GetString(Base64Url.DecodeFromChars((string)response["clientDataJSON"]!)));
                response["clientDataJSON"] = Base64Url.EncodeToString(clientData);
                return ($"clientDataJSON: {cwhat}", copy);
            case 11:
                string[] types = ["foo", "", "PUBLIC-KEY", "public-key\u0000"];
                copy["type"] = types[rng.Next(types.Length)];
                return ("type: unknown", copy);
            case 12:
                copy["rawId"] = Base64Url.EncodeToString(Random(rng, rng.Next(0, 1100)));
                return ("rawId: other bytes", copy);
            case 13:
                JsonNode?[] whole = [JsonValue.Create("x"), new JsonArray(copy.DeepClone()), JsonValue.Create(0), null, new JsonObject()];
                var w = whole[rng.Next(whole.Length)];
                return ($"whole credential as {w?.ToJsonString() ?? "null"}", w);
            case 14:
                var nested = new JsonObject();
                var cursor = nested;
                for (var i = 0; i < 60; i++)
                {
                    var next = new JsonObject();
                    cursor["a"] = next;
                    cursor = next;
                }

                copy["clientExtensionResults"] = nested;
                return ("clientExtensionResults: nested 60 deep", copy);
            default:
                response["transports"] = rng.Next(2) == 0 ? new JsonArray("warp-drive", 7) : JsonValue.Create("usb");
                return ("transports: unknown", copy);
        }
    }

    private static (JsonObject Holder, string Key) AnyField(Random rng, JsonObject credential)
    {
        var response = credential["response"]!.AsObject();
        var all = credential.Select(p => (credential, p.Key)).Concat(response.Select(p => (response, p.Key))).ToArray();
        return all[rng.Next(all.Length)];
    }

    private static byte[] Random(Random rng, int length)
    {
        var b = new byte[length];
        rng.NextBytes(b);
        return b;
    }

    /// <summary>The authData byte string of an attestation object.</summary>
    private static byte[] AuthData(byte[] attestationObject)
    {
        var reader = new CborReader(attestationObject);
        var count = reader.ReadStartMap() ?? 0;
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadTextString();
            if (key == "authData")
            {
                return reader.ReadByteString();
            }

            reader.SkipValue();
        }
        throw new InvalidOperationException("no authData");
    }

    private static byte[] AttestationObject(Action<CborWriter> fmt, Action<CborWriter> attStmt, Action<CborWriter> authData)
    {
        var w = new CborWriter(CborConformanceMode.Lax);
        w.WriteStartMap(3);
        w.WriteTextString("fmt");
        fmt(w);
        w.WriteTextString("attStmt");
        attStmt(w);
        w.WriteTextString("authData");
        authData(w);
        w.WriteEndMap();
        return w.Encode();
    }

    /// <summary>How many kinds <see cref="WithHostileAttestationObject"/> knows.</summary>
    public const int HostileAttestationObjectKinds = 9;

    /// <summary>The registration answer with its attestation object replaced by hostile CBOR of kind <paramref name="which"/>.</summary>
    public static (string What, JsonObject Credential) WithHostileAttestationObject(Random rng, JsonObject credential, int which)
    {
        var copy = credential.DeepClone().AsObject();
        var response = copy["response"]!.AsObject();
        var (what, cbor) = HostileAttestationObject(rng, AuthData(Base64Url.DecodeFromChars((string)response["attestationObject"]!)), which);
        response["attestationObject"] = Base64Url.EncodeToString(cbor);
        return ("attestationObject: " + what, copy);
    }

    private static (string What, byte[] Cbor) HostileAttestationObject(Random rng, byte[] authData, int? which = null)
    {
        void EmptyMap(CborWriter w)
        {
            w.WriteStartMap(0);
            w.WriteEndMap();
        }

        switch (which ?? rng.Next(HostileAttestationObjectKinds))
        {
            case 0:
                // 20 000 nested arrays: a recursive decoder must not run out of stack.
                return ("CBOR nested 20000 deep", [.. Enumerable.Repeat((byte)0x81, 20_000), 0x00]);
            case 1:
                return ("fmt is a number", AttestationObject(w => w.WriteInt32(7), EmptyMap, w => w.WriteByteString(authData)));
            case 2:
                return ("authData is text", AttestationObject(w => w.WriteTextString("none"), EmptyMap, w => w.WriteTextString("authData")));
            case 3:
                string[] formats = ["packed", "tpm", "android-key", "android-safetynet", "fido-u2f", "apple", "unknown-format"];
                var f = formats[rng.Next(formats.Length)];
                return ($"fmt {f} without a statement", AttestationObject(w => w.WriteTextString(f), EmptyMap, w => w.WriteByteString(authData)));
            case 4:
                return ("attStmt is junk", AttestationObject(w => w.WriteTextString("packed"), w =>
                {
                    w.WriteStartMap(3);
                    w.WriteTextString("alg");
                    w.WriteInt64(long.MinValue);
                    w.WriteTextString("sig");
                    w.WriteTextString("not bytes");
                    w.WriteTextString("x5c");
                    w.WriteStartArray(1);
                    w.WriteByteString(Random(rng, 64));
                    w.WriteEndArray();
                    w.WriteEndMap();
                }, w => w.WriteByteString(authData)));
            case 5:
                return ("indefinite-length map and trailing bytes", [0xBF, 0x63, .. "fmt"u8, 0x64, .. "none"u8, 0xFF, 0x00, 0x00]);
            case 6:
                return ("map claims 2^32 entries", [0xBA, 0xFF, 0xFF, 0xFF, 0xFF, 0x63, .. "fmt"u8]);
            case 7:
                return ("byte string claims 2^63 bytes", [0xA1, 0x68, .. "authData"u8, 0x5B, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
            default:
                var hostile = HostileAuthData(rng, authData, out var what);
                return ($"authData {what}", AttestationObject(w => w.WriteTextString("none"), EmptyMap, w => w.WriteByteString(hostile)));
        }
    }

    /// <summary>Authenticator data whose lengths and COSE key lie.</summary>
    private static byte[] HostileAuthData(Random rng, byte[] authData, out string what)
    {
        var data = (byte[])authData.Clone();
        switch (rng.Next(6))
        {
            case 0:
                what = "shorter than its header";
                return data[..rng.Next(Math.Min(37, data.Length))];
            case 1:
                what = "AT flag without attested data";
                data[32] |= 0x40;
                return data[..37];
            case 2:
                what = "credential id length 65535";
                data[32] |= 0x40;
                if (data.Length >= 55)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(53, 2), 0xFFFF);
                }

                return data;
            case 3:
                what = "ED flag with junk extensions";
                data[32] |= 0x80;
                return [.. data, .. Random(rng, 16)];
            case 4:
                what = "COSE key replaced";
                data[32] |= 0x40;
                // An assertion's authenticator data has no attested credential data: give it a header and a 16-byte id.
                var idLength = data.Length >= 55 ? BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(53, 2)) : 16;
                var head = data.Length >= 55 ? data[..Math.Min(data.Length, 55 + idLength)] : [.. data[..37], .. new byte[16], 0x00, 0x10, .. Random(rng, 16)];
                var w = new CborWriter(CborConformanceMode.Lax);
                w.WriteStartMap(4);
                w.WriteInt32(1);
                w.WriteInt32(rng.Next(-5, 6));
                w.WriteInt32(3);
                w.WriteInt64(rng.Next(2) == 0 ? -257 : long.MinValue);
                w.WriteInt32(-1);
                w.WriteByteString(Random(rng, rng.Next(0, 600)));
                w.WriteInt32(-2);
                w.WriteByteString(Random(rng, rng.Next(0, 80)));
                w.WriteEndMap();
                return [.. head, .. w.Encode()];
            default:
                what = "all flags set";
                data[32] = 0xFF;
                return data;
        }
    }

    private static (string What, byte[] Json) HostileClientData(Random rng, string valid)
    {
        var json = JsonNode.Parse(valid)!.AsObject();
        switch (rng.Next(7))
        {
            case 0:
                return ("not JSON", "{\"type\":"u8.ToArray());
            case 1:
                json["challenge"] = new JsonObject { ["a"] = 1 };
                return ("challenge is an object", Encoding.UTF8.GetBytes(json.ToJsonString()));
            case 2:
                json.Remove("origin");
                return ("no origin", Encoding.UTF8.GetBytes(json.ToJsonString()));
            case 3:
                json["origin"] = new string('o', 100_000);
                return ("origin 100 KB", Encoding.UTF8.GetBytes(json.ToJsonString()));
            case 4:
                return ("nested 10000 deep", Encoding.ASCII.GetBytes("{\"type\":" + new string('[', 10_000) + new string(']', 10_000) + "}"));
            case 5:
                json["type"] = 5;
                return ("type is a number", Encoding.UTF8.GetBytes(json.ToJsonString()));
            default:
                return ("invalid UTF-8", [0x7B, 0xFF, 0xFE, 0xC0, 0xAF, 0x7D]);
        }
    }
}
