using System.Buffers.Binary;
using System.Buffers.Text;
using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Authio.ControlPlane.Tests.Passkeys;

/// <summary>
/// A WebAuthn authenticator and browser in software, for tests: one ES256 (P-256) credential, registered with attestation
/// <c>none</c> and used for assertions byte for byte as a browser sends them (clientDataJSON with type, challenge and
/// origin; authenticator data with the RP ID hash, flags and signature counter; a DER ECDSA signature over
/// <c>authenticatorData || SHA-256(clientDataJSON)</c>). Every property is a knob a test may turn between ceremonies.
/// Depends on nothing but the BCL (System.Formats.Cbor ships with ASP.NET Core), so other test projects can link the file.
/// </summary>
/// <example>
/// <code>
/// var authenticator = new SoftwareAuthenticator("http://localhost:5100");
/// JsonObject attestation = authenticator.Register(creationOptions);   // answer to POST /v1/users/me/mfa/passkeys/options
/// JsonObject assertion = authenticator.Assert(requestOptions);        // answer to an assertion's options
/// </code>
/// </example>
internal sealed class SoftwareAuthenticator : IDisposable
{
    private const byte UserPresentFlag = 0x01;
    private const byte UserVerifiedFlag = 0x04;
    private const byte BackupEligibleFlag = 0x08;
    private const byte BackedUpFlag = 0x10;
    private const byte AttestedCredentialDataFlag = 0x40;

    private readonly ECDsa _key;

    /// <summary>A new credential (fresh key pair and random 32-byte credential id) for pages at <paramref name="origin"/>.</summary>
    public SoftwareAuthenticator(string origin, bool backupEligible = false)
        : this(origin, ECDsa.Create(ECCurve.NamedCurves.nistP256), RandomNumberGenerator.GetBytes(32))
    {
        BackupEligible = backupEligible;
        BackedUp = backupEligible;
    }

    private SoftwareAuthenticator(string origin, ECDsa key, byte[] credentialId)
    {
        Origin = origin;
        _key = key;
        CredentialId = credentialId;
    }

    /// <summary>The credential id (rawId).</summary>
    public byte[] CredentialId { get; }

    /// <summary>The credential id as base64url (the <c>id</c> a browser reports).</summary>
    public string CredentialIdText => Base64Url.EncodeToString(CredentialId);

    /// <summary>The user handle the relying party gave at registration (sent back in assertions); null before.</summary>
    public byte[]? UserHandle { get; set; }

    /// <summary>The origin written into clientDataJSON (what the browser's page was).</summary>
    public string Origin { get; set; }

    /// <summary>When set, the RP ID hashed into authenticator data instead of the one in the options.</summary>
    public string? RpIdOverride { get; set; }

    /// <summary>When set, the challenge written into clientDataJSON instead of the options' one (base64url text).</summary>
    public string? ChallengeOverride { get; set; }

    /// <summary>When set, the clientDataJSON <c>type</c> instead of <c>webauthn.create</c> / <c>webauthn.get</c>.</summary>
    public string? TypeOverride { get; set; }

    /// <summary>The signature counter the next ceremony reports (after adding <see cref="CounterStep"/> for assertions).</summary>
    public uint SignCount { get; set; }

    /// <summary>How much each assertion moves the counter; 0 = an authenticator without a counter.</summary>
    public uint CounterStep { get; set; } = 1;

    /// <summary>The BE flag: the credential may be synced to other devices (a "synced passkey", amr <c>swk</c>).</summary>
    public bool BackupEligible { get; set; }

    /// <summary>The BS flag: the credential is currently backed up.</summary>
    public bool BackedUp { get; set; }

    /// <summary>The UP flag.</summary>
    public bool UserPresent { get; set; } = true;

    /// <summary>The UV flag (PIN or biometric checked).</summary>
    public bool UserVerified { get; set; } = true;

    /// <summary>Breaks the next signatures (flips a bit after signing).</summary>
    public bool CorruptSignature { get; set; }

    /// <summary>
    /// A copy of this credential (same key, id, user handle and counter), as a cloned authenticator would be: both then
    /// count on their own.
    /// </summary>
    public SoftwareAuthenticator Clone()
    {
        var key = ECDsa.Create(_key.ExportParameters(includePrivateParameters: true));
        return new SoftwareAuthenticator(Origin, key, CredentialId)
        {
            UserHandle = UserHandle, SignCount = SignCount, CounterStep = CounterStep, BackupEligible = BackupEligible, BackedUp = BackedUp,
        };
    }

    /// <summary>
    /// Answers <c>navigator.credentials.create</c> options (<c>PublicKeyCredentialCreationOptions</c> JSON, as the control
    /// plane returns them under <c>options</c>) with the JSON a browser's <c>PublicKeyCredential.toJSON()</c> gives:
    /// attestation <c>none</c>, authenticator data with attested credential data and the COSE public key.
    /// </summary>
    public JsonObject Register(JsonNode creationOptions)
    {
        var rpId = RpIdOverride ?? (string)creationOptions["rp"]!["id"]!;
        UserHandle = Base64Url.DecodeFromChars((string)creationOptions["user"]!["id"]!);
        var clientData = ClientData(TypeOverride ?? "webauthn.create", ChallengeOverride ?? (string)creationOptions["challenge"]!);
        var authData = AuthenticatorData(rpId, AttestedCredentialDataFlag, SignCount, AttestedCredentialData());
        return new JsonObject
        {
            ["id"] = CredentialIdText,
            ["rawId"] = CredentialIdText,
            ["type"] = "public-key",
            ["response"] = new JsonObject
            {
                ["attestationObject"] = Base64Url.EncodeToString(AttestationObjectNone(authData)),
                ["clientDataJSON"] = Base64Url.EncodeToString(clientData),
                ["transports"] = new JsonArray("internal"),
                // What PublicKeyCredential.toJSON() adds besides (a server must not trip over them).
                ["authenticatorData"] = Base64Url.EncodeToString(authData),
                ["publicKey"] = Base64Url.EncodeToString(_key.ExportSubjectPublicKeyInfo()),
                ["publicKeyAlgorithm"] = -7,
            },
            ["authenticatorAttachment"] = "platform",
            ["clientExtensionResults"] = new JsonObject(),
        };
    }

    /// <summary>
    /// Answers <c>navigator.credentials.get</c> options (<c>PublicKeyCredentialRequestOptions</c> JSON) with the
    /// <c>PublicKeyCredential</c> JSON a browser posts, moving the counter by <see cref="CounterStep"/> first. The
    /// allow-list is not consulted (a test decides which credential answers).
    /// </summary>
    public JsonObject Assert(JsonNode requestOptions)
    {
        var rpId = RpIdOverride ?? (string)requestOptions["rpId"]!;
        SignCount += CounterStep;
        var clientData = ClientData(TypeOverride ?? "webauthn.get", ChallengeOverride ?? (string)requestOptions["challenge"]!);
        var authData = AuthenticatorData(rpId, 0, SignCount, []);
        var signature = _key.SignData([.. authData, .. SHA256.HashData(clientData)], HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        if (CorruptSignature)
        {
            signature[^1] ^= 0x01;
        }

        var response = new JsonObject
        {
            ["authenticatorData"] = Base64Url.EncodeToString(authData),
            ["clientDataJSON"] = Base64Url.EncodeToString(clientData),
            ["signature"] = Base64Url.EncodeToString(signature),
        };
        if (UserHandle is not null)
        {
            response["userHandle"] = Base64Url.EncodeToString(UserHandle);
        }

        return new JsonObject
        {
            ["id"] = CredentialIdText,
            ["rawId"] = CredentialIdText,
            ["type"] = "public-key",
            ["response"] = response,
            ["authenticatorAttachment"] = "platform",
            ["clientExtensionResults"] = new JsonObject(),
        };
    }

    /// <summary>The COSE_Key (EC2, ES256, P-256) of the credential's public key, as in attested credential data.</summary>
    public byte[] CosePublicKey()
    {
        var p = _key.ExportParameters(includePrivateParameters: false);
        var cbor = new CborWriter(CborConformanceMode.Ctap2Canonical);
        cbor.WriteStartMap(5);
        cbor.WriteInt32(1);
        cbor.WriteInt32(2);   // kty: EC2
        cbor.WriteInt32(3);
        cbor.WriteInt32(-7);  // alg: ES256
        cbor.WriteInt32(-1);
        cbor.WriteInt32(1);   // crv: P-256
        cbor.WriteInt32(-2);
        cbor.WriteByteString(p.Q.X!);
        cbor.WriteInt32(-3);
        cbor.WriteByteString(p.Q.Y!);
        cbor.WriteEndMap();
        return cbor.Encode();
    }

    public void Dispose() => _key.Dispose();

    private byte[] ClientData(string type, string challenge) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["type"] = type,
        ["challenge"] = challenge,
        ["origin"] = Origin,
        ["crossOrigin"] = false,
    }.ToJsonString());

    private byte[] AuthenticatorData(string rpId, byte extraFlags, uint signCount, byte[] attested)
    {
        var flags = (byte)(extraFlags | (UserPresent ? UserPresentFlag : 0) | (UserVerified ? UserVerifiedFlag : 0)
            | (BackupEligible ? BackupEligibleFlag : 0) | (BackedUp ? BackedUpFlag : 0));
        var data = new byte[32 + 1 + 4 + attested.Length];
        SHA256.HashData(Encoding.UTF8.GetBytes(rpId)).CopyTo(data, 0);
        data[32] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(33, 4), signCount);
        attested.CopyTo(data, 37);
        return data;
    }

    /// <summary>AAGUID (zero: no model claimed) || credential id length (2 bytes) || credential id || COSE key.</summary>
    private byte[] AttestedCredentialData()
    {
        var length = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)CredentialId.Length);
        return [.. new byte[16], .. length, .. CredentialId, .. CosePublicKey()];
    }

    private static byte[] AttestationObjectNone(byte[] authData)
    {
        var cbor = new CborWriter(CborConformanceMode.Ctap2Canonical);
        cbor.WriteStartMap(3);
        cbor.WriteTextString("fmt");
        cbor.WriteTextString("none");
        cbor.WriteTextString("attStmt");
        cbor.WriteStartMap(0);
        cbor.WriteEndMap();
        cbor.WriteTextString("authData");
        cbor.WriteByteString(authData);
        cbor.WriteEndMap();
        return cbor.Encode();
    }
}
