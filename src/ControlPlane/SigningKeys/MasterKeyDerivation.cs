using System.Security.Cryptography;
using System.Text;

namespace Authio.ControlPlane.SigningKeys;

/// <summary>
/// Purpose-bound keys derived from the master key (HKDF-SHA256, RFC 5869). They are recomputed at start-up and never
/// stored: someone holding the database but not the master key cannot compute them.
/// </summary>
internal static class MasterKeyDerivation
{
    public static byte[] Derive(this MasterKey master, string purpose, int length = 32) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, master.Bytes, length, salt: [], info: Encoding.UTF8.GetBytes("authio/" + purpose));
}
