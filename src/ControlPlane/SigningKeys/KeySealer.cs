using System.Security.Cryptography;
using System.Text;

namespace Authio.ControlPlane.SigningKeys;

/// <summary>
/// ChaCha20-Poly1305 sealing. Envelope: each org's data key (32 random bytes) is sealed by the master key, and the org's
/// private signing keys are sealed by its data key. What a blob belongs to (org, kid) is bound as associated data, so
/// sealed blobs cannot be swapped between orgs or keys. Keys from before per-org rings (no org) stay sealed by the
/// master key with the kid as associated data.
/// </summary>
internal sealed class KeySealer(MasterKey master)
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>A key without an org (created before per-org key rings): sealed directly by the master key.</summary>
    public string Seal(string kid, byte[] plaintext) => SealWith(master.Bytes, kid, plaintext);

    public byte[] Unseal(string kid, string sealedValue) => UnsealWith(master.Bytes, kid, sealedValue);

    public string SealDataKey(string orgId, byte[] dataKey) => SealWith(master.Bytes, DataKeyContext(orgId), dataKey);

    public byte[] UnsealDataKey(string orgId, string sealedValue) => UnsealWith(master.Bytes, DataKeyContext(orgId), sealedValue);

    public static string SealOrgKey(byte[] dataKey, string orgId, string kid, byte[] plaintext) => SealWith(dataKey, OrgKeyContext(orgId, kid), plaintext);

    public static byte[] UnsealOrgKey(byte[] dataKey, string orgId, string kid, string sealedValue) => UnsealWith(dataKey, OrgKeyContext(orgId, kid), sealedValue);

    /// <summary>A user's second-factor secret (e.g. a TOTP key), sealed by the master key and bound to the user and its kind.</summary>
    public string SealUserSecret(string kind, string userId, byte[] secret) => SealWith(master.Bytes, UserSecretContext(kind, userId), secret);

    public byte[] UnsealUserSecret(string kind, string userId, string sealedValue) => UnsealWith(master.Bytes, UserSecretContext(kind, userId), sealedValue);

    private static string UserSecretContext(string kind, string userId) => "authio-user-secret:" + kind + ":" + userId;

    private static string DataKeyContext(string orgId) => "authio-data-key:" + orgId;

    private static string OrgKeyContext(string orgId, string kid) => "authio-signing-key:" + orgId + ":" + kid;

    private static string SealWith(byte[] key, string context, byte[] plaintext)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var cipher = new byte[plaintext.Length];
        var tag = new byte[TagSize];
        using (var aead = new ChaCha20Poly1305(key))
        {
            aead.Encrypt(nonce, plaintext, cipher, tag, Encoding.UTF8.GetBytes(context));
        }

        return Convert.ToBase64String([.. nonce, .. cipher, .. tag]);
    }

    private static byte[] UnsealWith(byte[] key, string context, string sealedValue)
    {
        var all = Convert.FromBase64String(sealedValue);
        var nonce = all.AsSpan(0, NonceSize);
        var cipher = all.AsSpan(NonceSize, all.Length - NonceSize - TagSize);
        var tag = all.AsSpan(all.Length - TagSize);
        var plain = new byte[cipher.Length];
        using var aead = new ChaCha20Poly1305(key);
        aead.Decrypt(nonce, cipher, tag, plain, Encoding.UTF8.GetBytes(context));
        return plain;
    }
}
