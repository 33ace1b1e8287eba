using System.Text.Json;
using System.Text.Unicode;

namespace Authio.EdgeProxy.Keys;

/// <summary>
/// Parses and vets a JWKS document. A set with anything suspicious is refused whole (the previous set stays):
/// duplicate kids, encryption keys, weak RSA, alg/kty mismatches, symmetric or private key material.
/// </summary>
internal static class JwksParser
{
    public const int MaxDocumentBytes = 1 << 20;
    /// <summary>Most keys in one JWKS of an operator-configured issuer (<c>Edge:Issuers</c>).</summary>
    public const int MaxKeys = 100;

    /// <summary>
    /// Most keys the control plane's feed may publish in all (its snapshot or a whole-document change): 10 000 orgs × 3
    /// keys is the design point, with room for every org at the control plane's highest published bound on fewer orgs.
    /// </summary>
    public const int MaxControlPlaneKeys = 200_000;

    /// <summary>Most keys one org may publish through the control plane (its <c>MaxPublishedPerOrg</c> is at most this).</summary>
    public const int MaxKeysPerOrg = 20;

    /// <summary>Longest org id a key may carry (control-plane ids are ~30 bytes).</summary>
    public const int MaxOrgBytes = 128;

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = 8,
        AllowDuplicateProperties = false,
    };

    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "k"];

    public static bool TryParse(ReadOnlySpan<byte> json, TrustedIssuer issuer, out SigningKey[] keys, out string error)
    {
        keys = [];
        if (json.Length > MaxDocumentBytes)
        {
            error = "JWKS document is larger than 1 MiB";
            return false;
        }
        if (!Utf8.IsValid(json))
        {
            // JsonDocument checks structure, not the bytes inside strings: reading such a string later would throw.
            error = "JWKS is not valid UTF-8";
            return false;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), DocumentOptions);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: the duplicate-member check meets a member name with an escaped lone surrogate.
            error = $"JWKS is not valid JSON ({ex.Message})";
            return false;
        }
        using (document)
        {
            return TryParse(document.RootElement, issuer, out keys, out error);
        }
    }

    private static bool TryParse(JsonElement root, TrustedIssuer issuer, out SigningKey[] keys, out string error) =>
        TryParse(root, issuer, MaxKeys, out keys, out error);

    /// <summary>
    /// Parses one org's keys as the control plane publishes them (an <c>org_keys</c> change, or one org's share of its
    /// snapshot): every key must name <paramref name="org"/> (<c>""</c>: the keys without an org, which may not name one),
    /// at most <see cref="MaxKeysPerOrg"/> of them (<see cref="MaxKeys"/> for the keys without an org).
    /// </summary>
    public static bool TryParseOrgKeys(IReadOnlyList<JsonElement> jwks, TrustedIssuer issuer, string org, out SigningKey[] keys, out string error)
    {
        var max = org.Length == 0 ? MaxKeys : MaxKeysPerOrg;
        if (!TryParseItems(jwks, jwks.Count, issuer, max, out keys, out error))
        {
            return false;
        }
        foreach (var key in keys)
        {
            if ((key.Org ?? "") != org)
            {
                error = $"key '{key.Kid}' names org '{key.Org}' in the key set of org '{org}'";
                keys = [];
                return false;
            }
        }
        return true;
    }

    /// <summary>The members of a JWKS's <c>keys</c> array, or null when it has none.</summary>
    public static JsonElement.ArrayEnumerator? KeysOf(JsonElement root)
    {
        try
        {
            return root.ValueKind == JsonValueKind.Object && root.TryGetProperty("keys", out var array) && array.ValueKind == JsonValueKind.Array
                ? array.EnumerateArray() : null;
        }
        catch (InvalidOperationException)
        {
            return null; // a member name that is not text (an escaped lone surrogate) cannot be compared: no 'keys' array
        }
    }

    /// <summary>The org a JWK names (its <c>org</c> member when it is a string), else <c>""</c>.</summary>
    public static string OrgOf(JsonElement jwk)
    {
        try
        {
            return jwk.ValueKind == JsonValueKind.Object && jwk.TryGetProperty("org", out var org) && org.ValueKind == JsonValueKind.String ? org.GetString()! : "";
        }
        catch (InvalidOperationException)
        {
            return ""; // not text (a lone surrogate escape): grouped with the keys without an org, whose vetting refuses it
        }
    }

    private static bool TryParse(JsonElement root, TrustedIssuer issuer, int maxKeys, out SigningKey[] keys, out string error)
    {
        keys = [];
        if (KeysOf(root) is not { } array)
        {
            error = "JWKS must be an object with a 'keys' array";
            return false;
        }
        return TryParseItems(array, array.Count(), issuer, maxKeys, out keys, out error);
    }

    private static bool TryParseItems(IEnumerable<JsonElement> items, int count, TrustedIssuer issuer, int maxKeys, out SigningKey[] keys, out string error)
    {
        keys = [];
        if (count > maxKeys)
        {
            error = $"JWKS has more than {maxKeys} keys";
            return false;
        }
        var parsed = new List<SigningKey>();
        var kids = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var jwk in items)
        {
            SigningKey? key;
            string keyError;
            try
            {
                if (!TryParseKey(jwk, issuer, out key, out keyError))
                {
                    error = $"key #{index}: {keyError}";
                    return false;
                }
            }
            catch (InvalidOperationException)
            {
                // A string member that is not text: invalid UTF-8 from the feed, or an escaped lone surrogate.
                error = $"key #{index}: a string member is not valid UTF-8 or UTF-16";
                return false;
            }
            if (key is not null)
            {
                if (key.Kid is not null && !kids.Add(key.Kid))
                {
                    error = $"key #{index}: duplicate kid '{key.Kid}'";
                    return false;
                }
                parsed.Add(key);
            }
            index++;
        }
        keys = [.. parsed];
        error = "";
        return true;
    }

    private static bool TryParseKey(JsonElement jwk, TrustedIssuer issuer, out SigningKey? key, out string error)
    {
        key = null;
        error = "";
        if (jwk.ValueKind != JsonValueKind.Object)
        {
            error = "not a JSON object";
            return false;
        }
        var kty = GetString(jwk, "kty");
        if (kty is null)
        {
            error = "missing 'kty'";
            return false;
        }
        if (GetString(jwk, "use") is { } use && use != "sig")
        {
            error = $"'use' is '{use}'; only signature keys are accepted";
            return false;
        }
        if (jwk.TryGetProperty("key_ops", out var ops) && !AllowsVerify(ops))
        {
            error = "'key_ops' does not include 'verify'";
            return false;
        }
        foreach (var member in PrivateMembers)
        {
            if (jwk.TryGetProperty(member, out _))
            {
                error = $"contains private or symmetric key material ('{member}')";
                return false;
            }
        }
        var kid = GetString(jwk, "kid");
        string? org = null;
        if (jwk.TryGetProperty("org", out var orgMember))
        {
            org = orgMember.ValueKind == JsonValueKind.String ? orgMember.GetString() : null;
            if (string.IsNullOrEmpty(org) || System.Text.Encoding.UTF8.GetByteCount(org) > MaxOrgBytes || org.Any(char.IsControl))
            {
                error = $"'org' must be a non-empty string of at most {MaxOrgBytes} bytes without control characters";
                return false;
            }
        }
        JwsAlgorithm? pinned = null;
        if (GetString(jwk, "alg") is { } algName)
        {
            pinned = JwsAlgorithm.FromName(algName);
            if (pinned is null)
            {
                error = $"unsupported 'alg' '{algName}'";
                return false;
            }
        }
        switch (kty)
        {
            case "EC":
                return TryParseEc(jwk, kid, org, pinned, issuer, out key, out error);
            case "RSA":
                return TryParseRsa(jwk, kid, org, pinned, issuer, out key, out error);
            case "oct":
                error = "symmetric keys are never accepted from a JWKS";
                return false;
            default:
                // Unknown key types (e.g. OKP) are skipped, not fatal: the issuer may publish keys for other consumers.
                return true;
        }
    }

    private static bool TryParseEc(JsonElement jwk, string? kid, string? org, JwsAlgorithm? pinned, TrustedIssuer issuer, out SigningKey? key, out string error)
    {
        key = null;
        var crv = GetString(jwk, "crv");
        var size = crv switch { "P-256" => 32, "P-384" => 48, "P-521" => 66, _ => 0 };
        if (size == 0)
        {
            error = $"unsupported curve '{crv}'";
            return false;
        }
        if (pinned is not null && (pinned.Family != KeyFamily.Ec || pinned.Curve != crv))
        {
            error = $"'alg' {pinned} does not match kty EC / crv {crv}";
            return false;
        }
        var x = Base64Member(jwk, "x");
        var y = Base64Member(jwk, "y");
        if (x is null || y is null || x.Length != size || y.Length != size)
        {
            error = "EC key coordinates are missing or have the wrong length";
            return false;
        }
        try
        {
            key = new EcSigningKey(kid, pinned, issuer, crv!, x, y, org);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            error = "EC point is not on the curve";
            return false;
        }
        error = "";
        return true;
    }

    private static bool TryParseRsa(JsonElement jwk, string? kid, string? org, JwsAlgorithm? pinned, TrustedIssuer issuer, out SigningKey? key, out string error)
    {
        key = null;
        if (pinned is not null && pinned.Family != KeyFamily.Rsa)
        {
            error = $"'alg' {pinned} does not match kty RSA";
            return false;
        }
        var n = Base64Member(jwk, "n");
        var e = Base64Member(jwk, "e");
        if (n is null || e is null || n.Length == 0 || e.Length == 0)
        {
            error = "RSA key is missing 'n' or 'e'";
            return false;
        }
        var bits = n.Length * 8 - System.Numerics.BitOperations.LeadingZeroCount((uint)n[0]) + 24;
        if (n[0] == 0 || bits < RsaSigningKey.MinimumBits)
        {
            error = $"RSA modulus is {bits} bits; at least {RsaSigningKey.MinimumBits} are required";
            return false;
        }
        if (!RsaKeyHygiene.IsAcceptableExponent(e))
        {
            error = "RSA public exponent must be odd and at least 3";
            return false;
        }
        if (RsaKeyHygiene.HasRocaFingerprint(n))
        {
            error = "RSA modulus has the ROCA (CVE-2017-15361) fingerprint of a weak key generator";
            return false;
        }
        try
        {
            key = new RsaSigningKey(kid, pinned, issuer, n, e, org);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            error = "RSA key parameters are invalid";
            return false;
        }
        error = "";
        return true;
    }

    private static bool AllowsVerify(JsonElement ops) =>
        ops.ValueKind == JsonValueKind.Array && ops.EnumerateArray().Any(op => op.ValueKind == JsonValueKind.String && op.GetString() == "verify");

    private static string? GetString(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[]? Base64Member(JsonElement obj, string name) => Tokens.Base64UrlStrict.TryDecodeToArray(GetString(obj, name));
}
