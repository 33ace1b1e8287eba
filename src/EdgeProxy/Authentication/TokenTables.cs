using System.Numerics;
using System.Security.Cryptography;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// The shape both token tables share (<see cref="TokenCache"/>, <see cref="NegativeTokenCache"/>): a power-of-two
/// array of 2-way sets, keyed by an XxHash3 seeded per process so nobody can aim collisions at a slot.
/// </summary>
internal static class TokenTables
{
    /// <summary>Slots for <paramref name="capacity"/> entries: rounded up to a power of two (at most 2^30); 0 for a disabled table.</summary>
    public static int SizeFor(int capacity) =>
        capacity <= 0 ? 0 : (int)Math.Min(1u << 30, BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, capacity)));

    /// <summary>A random per-process hash seed.</summary>
    public static long NewSeed() => BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));
}
