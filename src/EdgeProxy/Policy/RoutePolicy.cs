using System.Runtime.CompilerServices;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.RateLimiting;
using Yarp.ReverseProxy.Configuration;

namespace Authio.EdgeProxy.Policy;

/// <summary>
/// What a YARP route requires, compiled once from its <c>Metadata</c> when the configuration loads (never parsed
/// per request). A route without metadata requires an authenticated caller: secure by default.
/// </summary>
internal sealed class RoutePolicy
{
    public const string AnonymousKey = "Authio.Anonymous";
    public const string ScopesKey = "Authio.Scopes";
    public const string OrgRouteValueKey = "Authio.OrgRouteValue";
    public const string ForwardAuthorizationKey = "Authio.ForwardAuthorization";
    public const string RateLimitKey = "Authio.RateLimit";
    public const string AllowEncodedSlashesKey = "Authio.AllowEncodedSlashes";

    private static readonly string[] KnownKeys = [AnonymousKey, ScopesKey, OrgRouteValueKey, ForwardAuthorizationKey, RateLimitKey, AllowEncodedSlashesKey];

    public static readonly RoutePolicy AuthenticatedDefault = new(false, [], null, false);

    private RoutePolicy(bool anonymous, string[] scopes, string? orgRouteValue, bool forwardAuthorization, RateLimit? rateLimit = null)
    {
        RateLimit = rateLimit;
        Anonymous = anonymous;
        RequiredScopes = scopes;
        OrgRouteValue = orgRouteValue;
        ForwardAuthorization = forwardAuthorization;
        ScopeError = scopes.Length == 0 ? null : EdgeError.InsufficientScope(string.Join(' ', scopes));
    }

    public bool Anonymous { get; }
    public string[] RequiredScopes { get; }
    public string? OrgRouteValue { get; }
    public bool ForwardAuthorization { get; }
    public EdgeError? ScopeError { get; }
    /// <summary>The route's own limit (<c>Authio.RateLimit</c>); null defers to the caller's org, then to <c>Edge:RateLimits:Default</c>.</summary>
    public RateLimit? RateLimit { get; }
    /// <summary><c>Authio.AllowEncodedSlashes</c>: this route accepts <c>%2F</c>, <c>%5C</c> and '\' in its path (dot segments stay refused).</summary>
    public bool AllowEncodedSlashes { get; private init; }

    /// <summary>Compiles <paramref name="route"/>'s metadata, or explains what is wrong naming the route and key.</summary>
    public static bool TryCompile(RouteConfig route, out RoutePolicy policy, out string? error)
    {
        policy = AuthenticatedDefault;
        error = null;
        var metadata = route.Metadata;
        if (metadata is null || metadata.Count == 0)
        {
            return true;
        }
        foreach (var key in metadata.Keys)
        {
            if (key.StartsWith("Authio.", StringComparison.OrdinalIgnoreCase) && !KnownKeys.Contains(key, StringComparer.Ordinal))
            {
                error = $"Route '{route.RouteId}': unknown metadata key '{key}' (known: {string.Join(", ", KnownKeys)}).";
                return false;
            }
        }
        if (!TryReadBool(route, AnonymousKey, out var anonymous, out error)
            || !TryReadBool(route, ForwardAuthorizationKey, out var forward, out error)
            || !TryReadBool(route, AllowEncodedSlashesKey, out var allowEncodedSlashes, out error))
        {
            return false;
        }
        var scopes = metadata.TryGetValue(ScopesKey, out var scopeText)
            ? scopeText.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
        string? orgRouteValue = null;
        if (metadata.TryGetValue(OrgRouteValueKey, out var orgValue))
        {
            orgRouteValue = orgValue.Trim();
            if (orgRouteValue.Length == 0 || !RouteHasParameter(route, orgRouteValue))
            {
                error = $"Route '{route.RouteId}': {OrgRouteValueKey} '{orgValue}' must name a parameter of the route's Match.Path.";
                return false;
            }
        }
        if (anonymous && (scopes.Length > 0 || orgRouteValue is not null))
        {
            error = $"Route '{route.RouteId}': {AnonymousKey}=true cannot be combined with {ScopesKey} or {OrgRouteValueKey}.";
            return false;
        }
        RateLimit? rateLimit = null;
        if (metadata.TryGetValue(RateLimitKey, out var limitText) && !RateLimit.TryParse(route.RouteId, limitText, out rateLimit, out var limitError))
        {
            error = $"Route '{route.RouteId}': {RateLimitKey} {limitError}.";
            return false;
        }
        policy = new RoutePolicy(anonymous, scopes, orgRouteValue, forward, rateLimit) { AllowEncodedSlashes = allowEncodedSlashes };
        return true;
    }

    private static bool TryReadBool(RouteConfig route, string key, out bool value, out string? error)
    {
        value = false;
        error = null;
        if (!route.Metadata!.TryGetValue(key, out var text))
        {
            return true;
        }
        if (bool.TryParse(text.Trim(), out value))
        {
            return true;
        }
        error = $"Route '{route.RouteId}': {key} must be 'true' or 'false', not '{text}'.";
        return false;
    }

    private static bool RouteHasParameter(RouteConfig route, string name) =>
        route.Match.Path is { } path && path.Contains('{' + name, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Compiled policies, keyed by the immutable <see cref="RouteConfig"/> instance YARP hands each request.</summary>
internal sealed class RoutePolicies
{
    private readonly ConditionalWeakTable<RouteConfig, RoutePolicy> _compiled = new();

    public void Store(RouteConfig route, RoutePolicy policy) => _compiled.AddOrUpdate(route, policy);

    public RoutePolicy Get(RouteConfig route)
    {
        if (_compiled.TryGetValue(route, out var policy))
        {
            return policy;
        }
        // Routes always pass the config filter first; this is a safety net that still fails closed.
        policy = RoutePolicy.TryCompile(route, out var compiled, out _) ? compiled : RoutePolicy.AuthenticatedDefault;
        _compiled.AddOrUpdate(route, policy);
        return policy;
    }
}

/// <summary>Validates and compiles route policies as YARP loads (or reloads) configuration; a bad reload keeps the last good config.</summary>
internal sealed class RoutePolicyConfigFilter(RoutePolicies policies) : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) => new(cluster);

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        if (!RoutePolicy.TryCompile(route, out var policy, out var error))
        {
            throw new InvalidOperationException(error);
        }
        policies.Store(route, policy);
        return new(route);
    }
}
