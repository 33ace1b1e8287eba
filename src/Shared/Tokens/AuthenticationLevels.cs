namespace Authio.Shared.Tokens;

/// <summary>
/// The ordered authentication context classes (<c>acr</c>) the control plane issues and the edge enforces:
/// password only &lt; multi-factor &lt; phishing-resistant (a passkey). Routes and actions name a minimum level, either
/// by its URN or by its short name (<c>pwd</c>, <c>mfa</c>, <c>phr</c>).
/// </summary>
public static class AuthenticationLevels
{
    public const string Password = "urn:authio:acr:pwd";
    public const string MultiFactor = "urn:authio:acr:mfa";
    public const string PhishingResistant = "urn:authio:acr:phr";

    /// <summary>The level's rank (1–3), 0 for a missing or unknown value: an unknown acr satisfies no minimum.</summary>
    public static int Rank(string? acr) => acr switch
    {
        Password or "pwd" => 1,
        MultiFactor or "mfa" => 2,
        PhishingResistant or "phr" => 3,
        _ => 0,
    };

    /// <summary>The URN for a configured level (URN or short name), or null when it names no level.</summary>
    public static string? Normalize(string? level) => Rank(level) switch
    {
        1 => Password,
        2 => MultiFactor,
        3 => PhishingResistant,
        _ => null,
    };
}
