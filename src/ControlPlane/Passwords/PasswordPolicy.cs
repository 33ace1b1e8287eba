using System.Text;
using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Passwords;

/// <summary>Configurable password rules; bcrypt only reads 72 bytes, so longer passwords are refused rather than silently cut.</summary>
internal sealed class PasswordPolicy(ControlPlaneOptions options)
{
    public const int MaxBytes = 72;

    public string[] Check(string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            return ["is required."];
        }

        var p = options.Passwords;
        var errors = new List<string>();
        if (password.Length < p.MinLength)
        {
            errors.Add($"must be at least {p.MinLength} characters.");
        }

        if (Encoding.UTF8.GetByteCount(password) > MaxBytes)
        {
            errors.Add($"must be at most {MaxBytes} bytes (UTF-8).");
        }

        if (p.RequireUpper && !password.Any(char.IsUpper))
        {
            errors.Add("must contain an upper-case letter.");
        }

        if (p.RequireLower && !password.Any(char.IsLower))
        {
            errors.Add("must contain a lower-case letter.");
        }

        if (p.RequireDigit && !password.Any(char.IsDigit))
        {
            errors.Add("must contain a digit.");
        }

        if (p.RequireSpecial && password.All(char.IsLetterOrDigit))
        {
            errors.Add("must contain a special character.");
        }

        return [.. errors];
    }
}
