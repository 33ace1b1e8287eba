using System.Diagnostics;
using Authio.ControlPlane.Diagnostics;
using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Passwords;

/// <summary>bcrypt hashing. Also verifies against a dummy hash so unknown emails cost the same time as wrong passwords.</summary>
internal sealed class PasswordHasher
{
    private readonly int _cost;
    private readonly Lazy<string> _dummyHash;
    private readonly ControlPlaneMetrics _metrics;

    public PasswordHasher(ControlPlaneOptions options, ControlPlaneMetrics metrics)
    {
        _metrics = metrics;
        _cost = options.Passwords.TestOnlyInsecureBcryptCost ?? options.Passwords.BcryptCost;
        _dummyHash = new Lazy<string>(() => BCrypt.Net.BCrypt.HashPassword(Guid.NewGuid().ToString("N"), _cost));
    }

    /// <summary>Computes the dummy hash up front so even the first unknown-email sign-in takes the usual time.</summary>
    public void Warm() => _ = _dummyHash.Value;

    public string Hash(string password)
    {
        var started = Stopwatch.GetTimestamp();
        var hash = BCrypt.Net.BCrypt.HashPassword(password, _cost);
        _metrics.Bcrypt("hash", Stopwatch.GetElapsedTime(started));
        return hash;
    }

    public bool Verify(string password, string hash)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return BCrypt.Net.BCrypt.Verify(password, hash);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false;
        }
        finally
        {
            _metrics.Bcrypt("verify", Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>Burns the same time as a real verification; always false.</summary>
    public bool VerifyDummy(string password)
    {
        // Recorded as a verify: the dummy exists to look exactly like one.
        var started = Stopwatch.GetTimestamp();
        _ = BCrypt.Net.BCrypt.Verify(password, _dummyHash.Value);
        _metrics.Bcrypt("verify", Stopwatch.GetElapsedTime(started));
        return false;
    }
}
