using System.Security.Cryptography;
using System.Text;
using Authio.ControlPlane.SigningKeys;
using Authio.Shared.Sync;

namespace Authio.ControlPlane.EdgeSync;

/// <summary>
/// Signs the change-feed entries the control plane writes into Redis, so that Redis is a transport, not an authority:
/// an edge applies a stream entry only with a valid signature by the key it learned from the authenticated snapshot.
/// The ECDSA P-256 key is derived from the master key with HKDF-SHA256 (label <see cref="Label"/>): every instance
/// sharing the master key signs with the same key, nothing is stored, and it changes only with the master key (edges
/// then meet an unknown <c>kid</c>, read those changes over HTTP and take a fresh snapshot carrying the new key).
/// </summary>
internal sealed class EdgeFeedSigner : IDisposable
{
    private const string Label = "authio/edge-feed-signing-key/v1";
    private readonly ECDsa _key;

    public EdgeFeedSigner(MasterKey master)
    {
        _key = Derive(master.Bytes);
        PublicKey = EdgeFeedSignature.PublicKeyOf(_key);
    }

    /// <summary>What the snapshot publishes.</summary>
    public EdgeFeedKey PublicKey { get; }

    public string KeyId => PublicKey.Kid;

    public string Sign(string changeJson) => EdgeFeedSignature.Sign(_key, Encoding.UTF8.GetBytes(changeJson));

    private static ECDsa Derive(byte[] masterKey)
    {
        // A 32-byte HKDF output is a valid P-256 scalar unless it is 0 or ≥ n (probability ≈ 2^-32): then the next counter.
        for (var counter = 0; ; counter++)
        {
            var d = HKDF.DeriveKey(HashAlgorithmName.SHA256, masterKey, 32, salt: [], info: Encoding.UTF8.GetBytes($"{Label}/{counter}"));
            try
            {
                // The public point is computed from D (supported on Linux and Windows since .NET 5).
                return ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d });
            }
            catch (CryptographicException) when (counter < 16)
            {
            }
            finally
            {
                CryptographicOperations.ZeroMemory(d);
            }
        }
    }

    public void Dispose() => _key.Dispose();
}
