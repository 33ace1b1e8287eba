using System.Security.Cryptography;

namespace Authio.ControlPlane.Storage;

/// <summary>Prefixed identifiers: the prefix tells a reader what kind of thing an id names.</summary>
internal static class Ids
{
    public static string New(string prefix) => prefix + "_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
}
