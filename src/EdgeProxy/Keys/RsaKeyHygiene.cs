using System.Numerics;

namespace Authio.EdgeProxy.Keys;

/// <summary>Rejects RSA public keys that verify fine but are known to be forgeable or factorable.</summary>
internal static class RsaKeyHygiene
{
    public static bool IsAcceptableExponent(byte[] e)
    {
        var exponent = new BigInteger(e, isUnsigned: true, isBigEndian: true);
        return exponent >= 3 && !exponent.IsEven;
    }

    // The primes of the ROCA detector (Nemec et al., CCS 2017): Infineon moduli are ≡ 65537^k mod each of them.
    private static readonly int[] RocaPrimes =
        [3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167];

    private static readonly HashSet<int>[] RocaResidues = RocaPrimes.Select(PowersOf65537).ToArray();

    public static bool HasRocaFingerprint(byte[] modulus)
    {
        var n = new BigInteger(modulus, isUnsigned: true, isBigEndian: true);
        for (var i = 0; i < RocaPrimes.Length; i++)
        {
            if (!RocaResidues[i].Contains((int)(n % RocaPrimes[i])))
            {
                return false;
            }
        }
        return true;
    }

    private static HashSet<int> PowersOf65537(int prime)
    {
        var residues = new HashSet<int>();
        var value = 1;
        while (residues.Add(value))
        {
            value = (int)(value * 65537L % prime);
        }
        return residues;
    }
}
