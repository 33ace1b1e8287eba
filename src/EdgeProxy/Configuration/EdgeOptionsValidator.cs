using Authio.EdgeProxy.Keys;

namespace Authio.EdgeProxy.Configuration;

/// <summary>Refuses a bad <c>Edge</c> section at start-up with a message naming the offending key.</summary>
internal static class EdgeOptionsValidator
{
    public static IReadOnlyList<string> Validate(EdgeOptions options)
    {
        var errors = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Issuers.Count; i++)
        {
            var issuer = options.Issuers[i];
            var key = $"{EdgeOptions.Section}:Issuers:{i}";
            if (string.IsNullOrWhiteSpace(issuer.Issuer))
            {
                errors.Add($"{key}:Issuer is required (the exact 'iss' value).");
            }
            else if (!seen.Add(issuer.Issuer))
            {
                errors.Add($"{key}:Issuer '{issuer.Issuer}' is configured twice.");
            }
            if (!string.IsNullOrWhiteSpace(issuer.Issuer))
            {
                var name = issuer.RouteName;
                if (name.Length == 0 || name.Any(c => c is <= ' ' or > '~' or ','))
                {
                    errors.Add($"{key}:Name '{name}' must be visible ASCII without spaces or commas (routes list it in Authio.Issuers).");
                }
                else if (name == IssuerOptions.ControlPlaneName)
                {
                    errors.Add($"{key}:Name '{name}' is reserved for the control plane's issuer.");
                }
                else if (!names.Add(name))
                {
                    errors.Add($"{key}:Name '{name}' is used by two issuers.");
                }
            }
            if (issuer.Audiences.Count == 0 || issuer.Audiences.Any(string.IsNullOrWhiteSpace))
            {
                errors.Add($"{key}:Audiences needs at least one non-empty audience.");
            }
            var hasSecret = !string.IsNullOrEmpty(issuer.SharedSecret);
            if (string.IsNullOrWhiteSpace(issuer.JwksUri) && !hasSecret)
            {
                errors.Add($"{key}:JwksUri is required unless SharedSecret is set.");
            }
            if (hasSecret && TrustedIssuer.DecodeSecret(issuer.SharedSecret!) is not { Length: >= 32 })
            {
                errors.Add($"{key}:SharedSecret must be at least 32 bytes (RFC 7518 §3.2): UTF-8 text, or 'base64:' followed by valid base64.");
            }
            foreach (var name in issuer.Algorithms ?? [])
            {
                var alg = JwsAlgorithm.FromName(name);
                if (alg is null)
                {
                    errors.Add($"{key}:Algorithms has unsupported '{name}' (supported: {string.Join(", ", JwsAlgorithm.All.Select(a => a.Name))}).");
                }
                else if (alg.Family == KeyFamily.Hmac && !hasSecret)
                {
                    errors.Add($"{key}:Algorithms lists {name} but no SharedSecret is set.");
                }
            }
            if (hasSecret && issuer.Algorithms is { Count: > 0 } algs && !algs.Contains("HS256"))
            {
                errors.Add($"{key}:SharedSecret is set but Algorithms does not list HS256.");
            }
            if (issuer.RefreshInterval < TimeSpan.FromSeconds(1))
            {
                errors.Add($"{key}:RefreshInterval must be at least 1 second.");
            }
            if (issuer.MaxKeySetAge < issuer.RefreshInterval)
            {
                errors.Add($"{key}:MaxKeySetAge must be at least RefreshInterval.");
            }
        }
        var tokens = options.Tokens;
        if (tokens.MaxTokenBytes is < 256 or > 65536)
        {
            errors.Add($"{EdgeOptions.Section}:Tokens:MaxTokenBytes must be between 256 and 65536.");
        }
        if (tokens.ClockSkew < TimeSpan.Zero || tokens.ClockSkew > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{EdgeOptions.Section}:Tokens:ClockSkew must be between 0 and 5 minutes.");
        }
        if (tokens.CacheCapacity < 0 || tokens.CacheCapacity > 10_000_000)
        {
            errors.Add($"{EdgeOptions.Section}:Tokens:CacheCapacity must be between 0 and 10000000.");
        }
        if (options.FailureBudget.PerSecond <= 0 || options.FailureBudget.Burst < 1)
        {
            errors.Add($"{EdgeOptions.Section}:FailureBudget needs PerSecond > 0 and Burst >= 1.");
        }
        if (options.FailureBudget.Ipv6Prefix is < Authentication.ClientAddressGroup.MinIpv6Prefix or > Authentication.ClientAddressGroup.MaxIpv6Prefix)
        {
            errors.Add($"{EdgeOptions.Section}:FailureBudget:Ipv6Prefix must be between 32 and 128.");
        }
        if (options.FailureBudget.NegativeCacheCapacity is < 0 or > 1_048_576)
        {
            errors.Add($"{EdgeOptions.Section}:FailureBudget:NegativeCacheCapacity must be between 0 and 1048576.");
        }
        if (options.Environment is not ("live" or "test"))
        {
            errors.Add($"{EdgeOptions.Section}:Environment must be 'live' or 'test', not '{options.Environment}'.");
        }
        var controlPlane = options.ControlPlane;
        if (!string.IsNullOrWhiteSpace(controlPlane.Url))
        {
            if (!Uri.TryCreate(controlPlane.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"{EdgeOptions.Section}:ControlPlane:Url must be an absolute http(s) URL.");
            }
            if (string.IsNullOrWhiteSpace(controlPlane.ApiKey) || !Authio.Shared.ApiKeys.ApiKeyFormat.IsWellFormed(controlPlane.ApiKey, out _))
            {
                errors.Add($"{EdgeOptions.Section}:ControlPlane:ApiKey must be a well-formed API key (sk_live_… or sk_test_…) with scope edge:sync.");
            }
        }
        if (controlPlane.MaxStaleness < TimeSpan.FromSeconds(1) || controlPlane.LongPollSeconds is < 0 or > 30)
        {
            errors.Add($"{EdgeOptions.Section}:ControlPlane needs MaxStaleness >= 1 s and LongPollSeconds between 0 and 30.");
        }
        if (options.Revocation.Capacity < 64 || options.Revocation.FalsePositiveRate is <= 0 or >= 0.5)
        {
            errors.Add($"{EdgeOptions.Section}:Revocation needs Capacity >= 64 and 0 < FalsePositiveRate < 0.5.");
        }
        if (options.Revocation.ConfirmTimeout <= TimeSpan.Zero || options.Revocation.ConfirmTimeout > TimeSpan.FromSeconds(10))
        {
            errors.Add($"{EdgeOptions.Section}:Revocation:ConfirmTimeout must be between 0 and 10 seconds (it is waited on the request path).");
        }
        if (options.Revocation.ConfirmCacheDuration < TimeSpan.Zero || options.Revocation.ConfirmCacheDuration > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{EdgeOptions.Section}:Revocation:ConfirmCacheDuration must be between 0 and 1 minute.");
        }
        var apiKeys = options.ApiKeys;
        if (apiKeys.CacheDuration < TimeSpan.FromMilliseconds(100) || apiKeys.NegativeCacheDuration < TimeSpan.FromMilliseconds(100))
        {
            errors.Add($"{EdgeOptions.Section}:ApiKeys:CacheDuration and NegativeCacheDuration must be at least 100 ms.");
        }
        if (apiKeys.CacheCapacity < 16 || apiKeys.UsageReportInterval < TimeSpan.FromSeconds(1) || apiKeys.LookupTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{EdgeOptions.Section}:ApiKeys needs CacheCapacity >= 16, UsageReportInterval >= 1 s and LookupTimeout > 0.");
        }
        if (apiKeys.PushedRefreshInterval < TimeSpan.FromSeconds(1) || apiKeys.PushedRefreshInterval > TimeSpan.FromDays(1))
        {
            errors.Add($"{EdgeOptions.Section}:ApiKeys:PushedRefreshInterval must be between 1 second and 1 day.");
        }
        if (apiKeys.MaxConcurrentLookups is < 1 or > 1024)
        {
            errors.Add($"{EdgeOptions.Section}:ApiKeys:MaxConcurrentLookups must be between 1 and 1024.");
        }
        if (apiKeys.LookupQueue is < 0 or > 10_000)
        {
            errors.Add($"{EdgeOptions.Section}:ApiKeys:LookupQueue must be between 0 and 10000.");
        }
        if (!string.IsNullOrWhiteSpace(apiKeys.CacheSigningKey) && apiKeys.CacheSigningKeyBytes() is null)
        {
            errors.Add($"{EdgeOptions.Section}:ApiKeys:CacheSigningKey must be base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`).");
        }
        var rateLimits = options.RateLimits;
        if (!string.IsNullOrWhiteSpace(rateLimits.Default) && !RateLimiting.RateLimitPolicy.TryParse("default", rateLimits.Default, out _, out var limitError))
        {
            errors.Add($"{EdgeOptions.Section}:RateLimits:Default {limitError}.");
        }
        if (rateLimits.ExpectedEdges is < 1 or > 10_000)
        {
            errors.Add($"{EdgeOptions.Section}:RateLimits:ExpectedEdges must be between 1 and 10000.");
        }
        if (rateLimits.Capacity is < 1024 or > 1 << 26)
        {
            errors.Add($"{EdgeOptions.Section}:RateLimits:Capacity must be between 1024 and 67108864.");
        }
        if (options.Limits.MaxRequestHeaderBytes is < EdgeLimitOptions.MinRequestHeaderBytes or > EdgeLimitOptions.MaxRequestHeaderBytesLimit)
        {
            errors.Add($"{EdgeOptions.Section}:Limits:MaxRequestHeaderBytes must be between {EdgeLimitOptions.MinRequestHeaderBytes} and {EdgeLimitOptions.MaxRequestHeaderBytesLimit}.");
        }
        if (string.IsNullOrWhiteSpace(options.AdminUrls))
        {
            errors.Add($"{EdgeOptions.Section}:AdminUrls is required.");
        }
        if (!options.Memory.TryResolveBudget(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, out _, out var budgetError))
        {
            errors.Add($"{EdgeOptions.Section}:Memory:Budget {budgetError}");
        }
        if (options.Memory.PressureThreshold is < 0.5 or > 1.0 || double.IsNaN(options.Memory.PressureThreshold))
        {
            errors.Add($"{EdgeOptions.Section}:Memory:PressureThreshold must be between 0.5 and 1.0.");
        }
        if (options.Memory.CheckInterval < TimeSpan.FromMilliseconds(100) || options.Memory.CheckInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{EdgeOptions.Section}:Memory:CheckInterval must be between 00:00:00.1 and 00:01:00.");
        }
        return errors;
    }
}
