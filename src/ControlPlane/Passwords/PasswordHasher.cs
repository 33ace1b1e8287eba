using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Passwords;

/// <summary>bcrypt hashing. Also verifies against a dummy hash so unknown emails cost the same time as wrong passwords.</summary>
internal sealed class PasswordHasher
{
    private readonly int _cost;
    private readonly Lazy<string> _dummyHash;

    public PasswordHasher(ControlPlaneOptions options)
    {
        _cost = options.Passwords.TestOnlyInsecureBcryptCost ?? options.Passwords.BcryptCost;
        _dummyHash = new Lazy<string>(() => BCrypt.Net.BCrypt.HashPassword(Guid.NewGuid().ToString("N"), _cost));
    }

    /// <summary>Computes the dummy hash up front so even the first unknown-email sign-in takes the usual time.</summary>
    public void Warm() => _ = _dummyHash.Value;

    public string Hash(string password) => BCrypt.Net.BCrypt.HashPassword(password, _cost);

    public bool Verify(string password, string hash)
    {
        try
        {
            return BCrypt.Net.BCrypt.Verify(password, hash);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false;
        }
    }

    /// <summary>Burns the same time as a real verification; always false.</summary>
    public bool VerifyDummy(string password)
    {
        _ = BCrypt.Net.BCrypt.Verify(password, _dummyHash.Value);
        return false;
    }
}
