using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Authio.ControlPlane.Sessions;

/// <summary>
/// Opaque refresh tokens: <c>{org id}.{256 random bits, base64url}</c>. The org prefix lets the service open the
/// right org-scoped transaction; only the SHA-256 of the whole token is stored.
/// </summary>
internal static class RefreshTokens
{
    public static string New(string orgId) => orgId + "." + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static string? OrgOf(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 200)
        {
            return null;
        }

        var dot = token.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && dot < token.Length - 1 ? token[..dot] : null;
    }
}
