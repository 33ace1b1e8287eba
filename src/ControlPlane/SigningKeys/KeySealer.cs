using System.Security.Cryptography;
using System.Text;

namespace Authio.ControlPlane.SigningKeys;

/// <summary>ChaCha20-Poly1305 sealing of private keys; the kid is bound as associated data so sealed blobs cannot be swapped.</summary>
internal sealed class KeySealer(MasterKey master)
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public string Seal(string kid, byte[] plaintext)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var cipher = new byte[plaintext.Length];
        var tag = new byte[TagSize];
        using (var aead = new ChaCha20Poly1305(master.Bytes))
            aead.Encrypt(nonce, plaintext, cipher, tag, Encoding.UTF8.GetBytes(kid));
        return Convert.ToBase64String([.. nonce, .. cipher, .. tag]);
    }

    public byte[] Unseal(string kid, string sealedValue)
    {
        var all = Convert.FromBase64String(sealedValue);
        var nonce = all.AsSpan(0, NonceSize);
        var cipher = all.AsSpan(NonceSize, all.Length - NonceSize - TagSize);
        var tag = all.AsSpan(all.Length - TagSize);
        var plain = new byte[cipher.Length];
        using var aead = new ChaCha20Poly1305(master.Bytes);
        aead.Decrypt(nonce, cipher, tag, plain, Encoding.UTF8.GetBytes(kid));
        return plain;
    }
}
