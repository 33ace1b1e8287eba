using Authio.ControlPlane.Passwords;
using Authio.ControlPlane.RateLimiting;
using Authio.Shared.Configuration;

namespace Authio.ControlPlane.Hosting;

internal static class OptionsLoader
{
    public const string Section = "ControlPlane";

    /// <summary>Binds and validates; the first bad value stops start-up naming its key.</summary>
    public static ControlPlaneOptions Load(IConfiguration configuration)
    {
        var o = new ControlPlaneOptions();
        try
        {
            configuration.GetSection(Section).Bind(o);
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException(Section, "could not be read: " + ex.Message);
        }
        ApplyLegacyRateLimit(configuration, o);
        Validate(o);
        return o;
    }

    /// <summary>The old per-IP window (<c>RateLimit:AuthPerMinute</c>) fills the per-IP limits nobody set explicitly.</summary>
    private static void ApplyLegacyRateLimit(IConfiguration configuration, ControlPlaneOptions o)
    {
        if (o.RateLimit.AuthPerMinute is not { } perMinute)
        {
            return;
        }

        Require(perMinute >= 1, "ControlPlane:RateLimit:AuthPerMinute", "must be at least 1");
        var rule = $"{perMinute}/1m burst {perMinute}";
        foreach (var (name, limits) in EndpointLimits(o.RateLimits))
        {
            if (configuration[$"{Section}:RateLimits:{name}:PerIp"] is null)
            {
                limits.PerIp = rule;
            }
        }
    }

    private static (string Name, EndpointRateLimitOptions Limits)[] EndpointLimits(AuthRateLimitsOptions r) =>
        [("SignIn", r.SignIn), ("Refresh", r.Refresh), ("Password", r.Password)];

    private static void Validate(ControlPlaneOptions o)
    {
        Require(Uri.TryCreate(o.Issuer, UriKind.Absolute, out var issuer) && issuer.Scheme is "http" or "https",
            "ControlPlane:Issuer", "must be an absolute http(s) URL");
        Require(!string.IsNullOrWhiteSpace(o.Audience), "ControlPlane:Audience", "must be set");
        Require(!string.IsNullOrWhiteSpace(o.DataDirectory), "ControlPlane:DataDirectory", "must be set");
        Require(o.Passwords.BcryptCost is >= PasswordOptions.MinBcryptCost and <= PasswordOptions.MaxBcryptCost, "ControlPlane:Passwords:BcryptCost",
            $"must be between {PasswordOptions.MinBcryptCost} and {PasswordOptions.MaxBcryptCost}");
        Require(o.Passwords.TestOnlyInsecureBcryptCost is null or (>= PasswordOptions.MinInsecureBcryptCost and <= PasswordOptions.MaxBcryptCost),
            "ControlPlane:Passwords:TestOnlyInsecureBcryptCost", $"must be between {PasswordOptions.MinInsecureBcryptCost} and {PasswordOptions.MaxBcryptCost}");
        Require(o.Passwords.MinLength is >= PasswordOptions.LeastMinLength and <= PasswordPolicy.MaxBytes, "ControlPlane:Passwords:MinLength",
            $"must be between {PasswordOptions.LeastMinLength} and {PasswordPolicy.MaxBytes}");
        Require(o.Lockout.MaxFailures >= 1, "ControlPlane:Lockout:MaxFailures", "must be at least 1");
        foreach (var (name, stream) in o.AuditStreams)
        {
            var key = "ControlPlane:AuditStreams:" + name;
            Require((stream.Url is null) != (stream.Directory is null), key, "must set exactly one of Url and Directory");
            Require(stream.Url is null || (Uri.TryCreate(stream.Url, UriKind.Absolute, out var url)
                && (url.Scheme == "https" || (url.Scheme == "http" && url.IsLoopback))), key + ":Url", "must be an absolute https URL (http only to a loopback address)");
            Require(stream.MaxFileBytes is >= 1L << 20 and <= 1L << 30, key + ":MaxFileBytes", "must be between 1 MiB and 1 GiB");
            Require(stream.BatchSize is >= 1 and <= 10_000, key + ":BatchSize", "must be between 1 and 10000");
        }
        Require(o.StepUp.MaxAgeSeconds is >= StepUpOptions.MinMaxAgeSeconds and <= StepUpOptions.MaxMaxAgeSeconds, "ControlPlane:StepUp:MaxAgeSeconds",
            $"must be between {StepUpOptions.MinMaxAgeSeconds} and {StepUpOptions.MaxMaxAgeSeconds}");
        Require(o.Lockout.Window > TimeSpan.Zero, "ControlPlane:Lockout:Window", "must be positive");
        Require(o.Lockout.Duration > TimeSpan.Zero, "ControlPlane:Lockout:Duration", "must be positive");
        Require(o.Tokens.AccessTokenTtl > TimeSpan.Zero, "ControlPlane:Tokens:AccessTokenTtl", "must be positive");
        Require(o.Tokens.MaxAccessTokenTtl >= o.Tokens.AccessTokenTtl, "ControlPlane:Tokens:MaxAccessTokenTtl", "must be at least AccessTokenTtl");
        Require(o.Tokens.RefreshTokenTtl > TimeSpan.Zero, "ControlPlane:Tokens:RefreshTokenTtl", "must be positive");
        Require(o.Tokens.RefreshReuseGrace >= TimeSpan.Zero, "ControlPlane:Tokens:RefreshReuseGrace", "must not be negative");
        Require(o.Tokens.ClockSkew >= TimeSpan.Zero, "ControlPlane:Tokens:ClockSkew", "must not be negative");
        Require(o.Sessions.IdleTimeout > TimeSpan.Zero, "ControlPlane:Sessions:IdleTimeout", "must be positive");
        Require(o.Sessions.MaxPerUser >= 1, "ControlPlane:Sessions:MaxPerUser", "must be at least 1");
        Require(o.SigningKeys.RotationInterval > o.SigningKeys.PrePublish, "ControlPlane:SigningKeys:RotationInterval", "must be longer than PrePublish");
        Require(o.SigningKeys.PrePublish >= TimeSpan.Zero, "ControlPlane:SigningKeys:PrePublish", "must not be negative");
        Require(o.Audit.RetentionDays is >= AuditOptions.MinRetentionDays and <= AuditOptions.MaxRetentionDays, "ControlPlane:Audit:RetentionDays",
            $"must be between {AuditOptions.MinRetentionDays} and {AuditOptions.MaxRetentionDays} days");
        var minTtl = TimeSpan.FromSeconds(TokenOptions.MinTtlSeconds);
        Require(o.Tokens.AccessTokenTtl >= minTtl, "ControlPlane:Tokens:AccessTokenTtl", $"must be at least {TokenOptions.MinTtlSeconds} seconds");
        Require(o.Sessions.IdleTimeout >= minTtl && o.Sessions.IdleTimeout <= o.Tokens.RefreshTokenTtl, "ControlPlane:Sessions:IdleTimeout",
            $"must be at least {TokenOptions.MinTtlSeconds} seconds and at most RefreshTokenTtl");
        Require(o.Limits.MaxRequestBodyBytes is >= LimitOptions.SmallestBodyLimit and <= LimitOptions.LargestBodyLimit, "ControlPlane:Limits:MaxRequestBodyBytes",
            $"must be between {LimitOptions.SmallestBodyLimit} and {LimitOptions.LargestBodyLimit}");
        Require(o.SigningKeys.MaxRotationsPerHour is >= 1 and <= SigningKeyOptions.MostRotationsPerHour, "ControlPlane:SigningKeys:MaxRotationsPerHour",
            $"must be between 1 and {SigningKeyOptions.MostRotationsPerHour}");
        Require(o.SigningKeys.MaxPublishedPerOrg is >= SigningKeyOptions.FewestPublished and <= SigningKeyOptions.MostPublished, "ControlPlane:SigningKeys:MaxPublishedPerOrg",
            $"must be between {SigningKeyOptions.FewestPublished} and {SigningKeyOptions.MostPublished}");
        Require(AdminUrlsValid(o.AdminUrls), "ControlPlane:AdminUrls", "must list one or more absolute http(s) URLs separated by ';'");
        Require(o.Jobs.Interval > TimeSpan.Zero, "ControlPlane:Jobs:Interval", "must be positive");
        o.Webhooks.Validate();
        o.DataSubjects.Validate();
        Require(o.Risk.StepUpAbove is null or (>= 0 and <= 99), "ControlPlane:Risk:StepUpAbove", "must be between 0 and 99 (a risk score; unset: off)");
        Require(o.Risk.StuffingThreshold is >= 3 and <= Risk.SignInRisk.MaxPerBurst, "ControlPlane:Risk:StuffingThreshold", $"must be between 3 and {Risk.SignInRisk.MaxPerBurst}");
        Require(o.Risk.StuffingWindow >= TimeSpan.FromSeconds(10) && o.Risk.StuffingWindow <= TimeSpan.FromHours(1), "ControlPlane:Risk:StuffingWindow",
            "must be between 00:00:10 and 01:00:00");
        foreach (var (name, limits) in EndpointLimits(o.RateLimits))
        {
            RequireRule(limits.PerIp, $"ControlPlane:RateLimits:{name}:PerIp");
            RequireRule(limits.PerAccount, $"ControlPlane:RateLimits:{name}:PerAccount");
        }
        Require(o.RateLimits.MaxKeysPerLimit is >= AuthRateLimitsOptions.FewestKeys and <= AuthRateLimitsOptions.MostKeys, "ControlPlane:RateLimits:MaxKeysPerLimit",
            $"must be between {AuthRateLimitsOptions.FewestKeys} and {AuthRateLimitsOptions.MostKeys}");
        Require(o.ApiKeys.EdgeOrgIds.All(id => !string.IsNullOrWhiteSpace(id)), "ControlPlane:ApiKeys:EdgeOrgIds", "must not contain empty org ids");
        Require(o.Operators.All(v => !string.IsNullOrWhiteSpace(v) && (v.StartsWith("usr_", StringComparison.Ordinal) || v.Contains('@', StringComparison.Ordinal))),
            "ControlPlane:Operators", "must list user ids (usr_…) or email addresses");
        var b = o.Bootstrap;
        var given = new[] { b.OrgName, b.AdminEmail, b.AdminPassword }.Count(v => !string.IsNullOrWhiteSpace(v));
        Require(given is 0 or 3, "ControlPlane:Bootstrap", "needs all of OrgName, AdminEmail and AdminPassword, or none");
    }

    private static bool AdminUrlsValid(string? urls)
    {
        var parts = (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // Kestrel also takes wildcard hosts (http://*:9902, http://+:9902), which Uri does not parse as hosts.
        return parts.Length > 0 && parts.All(u => Uri.TryCreate(u.Replace("://*", "://0.0.0.0", StringComparison.Ordinal)
            .Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https");
    }

    private static void RequireRule(string? text, string key)
    {
        if (!AuthRateRule.TryParse(text, out _, out var error))
        {
            throw new ConfigurationException(key, "is invalid: " + error);
        }
    }

    private static void Require(bool ok, string key, string problem)
    {
        if (!ok)
        {
            throw new ConfigurationException(key, problem);
        }
    }
}
