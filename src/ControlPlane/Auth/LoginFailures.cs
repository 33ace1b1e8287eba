using System.Security.Cryptography;
using System.Text;
using Authio.ControlPlane.SigningKeys;
using Authio.ControlPlane.Users;

namespace Authio.ControlPlane.Auth;

/// <summary>
/// Lockout state per normalized email, kept for known and unknown emails alike so a lock never tells whether an
/// account exists. Rows are keyed by HMAC-SHA256(email) under a key derived from the master key: the table holds no
/// email, and its keys cannot be matched against a list of guessed emails without that key.
/// </summary>
internal sealed class LoginFailures(UserStore users, MasterKey master, TimeProvider time)
{
    private readonly byte[] _key = master.Derive("login-failures/v1");

    public string KeyOf(string normalizedEmail) =>
        Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(normalizedEmail)));

    /// <summary>Drops entries whose window and lock have both passed (the maintenance job): the table only holds recent failures.</summary>
    public Task<int> PruneAsync(TimeSpan window, CancellationToken ct) =>
        users.PruneLoginFailuresAsync(time.GetUtcNow().ToUnixTimeMilliseconds(), (long)window.TotalMilliseconds, ct);
}
