using System.Globalization;
using Authio.ControlPlane.Hosting;
using Authio.Shared.Configuration;

namespace Authio.ControlPlane.Passkeys;

/// <summary>
/// <c>ControlPlane:Passkeys</c>: who the relying party is and which web origins may run its ceremonies. Defaults come
/// from <c>ControlPlane:Issuer</c>, so the one-machine setup (<c>http://localhost:5100</c>) works without settings.
/// </summary>
internal sealed class PasskeyOptions
{
    public const string Section = OptionsLoader.Section + ":Passkeys";

    /// <summary>How long a registration or assertion challenge may be answered.</summary>
    public static readonly TimeSpan ChallengeLifetime = TimeSpan.FromMinutes(5);

    /// <summary>A user may hold at most this many passkeys (a bound on the allow-list sent to browsers).</summary>
    public const int MaxPerUser = 20;

    /// <summary>The WebAuthn RP ID: a registrable domain (no scheme, port or path), e.g. <c>example.com</c>. Default: the issuer's host.</summary>
    public string? RelyingPartyId { get; set; }

    /// <summary>Shown by authenticators next to the account. Default <c>Authio</c>.</summary>
    public string? RelyingPartyName { get; set; }

    /// <summary>Web origins (<c>https://app.example.com</c>) whose pages may register and use passkeys. Default: the issuer's origin.</summary>
    public string[] Origins { get; set; } = [];

    /// <summary>Binds <c>ControlPlane:Passkeys</c>, fills the defaults from <paramref name="issuer"/> and validates; a bad value names its key.</summary>
    public static PasskeyOptions Load(IConfiguration configuration, string issuer)
    {
        var o = new PasskeyOptions();
        try
        {
            configuration.GetSection(Section).Bind(o);
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException(Section, "could not be read: " + ex.Message);
        }

        // The issuer's host is the default only when a browser could use it: a domain name (an IP address cannot be an
        // RP ID) served over https, or localhost. Otherwise (http://controlplane:5100 in a container) the defaults are
        // localhost's, so start-up never fails on settings nobody made.
        Uri.TryCreate(issuer, UriKind.Absolute, out var issuerUri);
        var issuerUsable = issuerUri is { HostNameType: UriHostNameType.Dns } && IsDomain(issuerUri.IdnHost.ToLowerInvariant())
            && (issuerUri.Scheme == "https" || IsLocalhost(issuerUri.IdnHost));
        if (string.IsNullOrWhiteSpace(o.RelyingPartyId))
        {
            o.RelyingPartyId = issuerUsable ? issuerUri!.IdnHost : "localhost";
        }

        o.RelyingPartyId = o.RelyingPartyId.Trim().ToLowerInvariant();
        if (!IsDomain(o.RelyingPartyId))
        {
            throw new ConfigurationException(Section + ":RelyingPartyId",
                $"'{o.RelyingPartyId}' is not a domain name (no scheme, port, path or IP address, e.g. example.com).");
        }

        o.RelyingPartyName = string.IsNullOrWhiteSpace(o.RelyingPartyName) ? "Authio" : o.RelyingPartyName.Trim();
        if (o.RelyingPartyName.Length > 100)
        {
            throw new ConfigurationException(Section + ":RelyingPartyName", "must be at most 100 characters.");
        }

        if (o.Origins.Length == 0)
        {
            o.Origins = issuerUsable && HostBelongs(issuerUri!.IdnHost.ToLowerInvariant(), o.RelyingPartyId)
                ? [issuerUri.GetLeftPart(UriPartial.Authority)]
                : [o.RelyingPartyId == "localhost" ? "http://localhost" + PortSuffix(issuerUri) : "https://" + o.RelyingPartyId];
        }

        for (var i = 0; i < o.Origins.Length; i++)
        {
            o.Origins[i] = NormalizeOrigin(o.Origins[i], o.RelyingPartyId, $"{Section}:Origins:{i.ToString(CultureInfo.InvariantCulture)}");
        }

        return o;
    }

    private static string PortSuffix(Uri? issuer) => issuer is { IsDefaultPort: false } ? ":" + issuer.Port.ToString(CultureInfo.InvariantCulture) : "";

    /// <summary>An origin as a browser writes it in clientDataJSON (scheme://host[:port]); it must lie within the RP ID.</summary>
    private static string NormalizeOrigin(string? value, string rpId, string key)
    {
        if (!Uri.TryCreate(value?.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")
            || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
        {
            throw new ConfigurationException(key, $"'{value}' is not an origin (https://host[:port], nothing after it).");
        }

        // Browsers offer WebAuthn only in secure contexts: https, or http on localhost.
        if (uri.Scheme == "http" && !IsLocalhost(uri.IdnHost))
        {
            throw new ConfigurationException(key, $"'{value}' must use https (http only for localhost).");
        }

        if (!HostBelongs(uri.IdnHost, rpId))
        {
            throw new ConfigurationException(key, $"'{value}' is not within the relying party id '{rpId}' (its host must be it or a subdomain of it).");
        }

        return uri.GetLeftPart(UriPartial.Authority);
    }

    private static bool IsLocalhost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);

    private static bool HostBelongs(string host, string rpId) =>
        host == rpId || host.EndsWith("." + rpId, StringComparison.Ordinal);

    private static bool IsDomain(string value) =>
        value.Length is > 0 and <= 253 && Uri.CheckHostName(value) == UriHostNameType.Dns
        && value.Split('.').All(label => label.Length is > 0 and <= 63 && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));
}
