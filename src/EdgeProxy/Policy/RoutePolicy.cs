using System.Runtime.CompilerServices;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.RateLimiting;
using Authio.Shared.Scopes;
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
    public const string AnyScopesKey = "Authio.AnyScopes";
    public const string IssuersKey = "Authio.Issuers";
    public const string ClaimHeadersKey = "Authio.ClaimHeaders";
    public const string ProjectRouteValueKey = "Authio.ProjectRouteValue";
    public const string AllowEncodedSlashesKey = "Authio.AllowEncodedSlashes";

    private static readonly string[] KnownKeys = [AnonymousKey, ScopesKey, AnyScopesKey, OrgRouteValueKey, ProjectRouteValueKey, IssuersKey,
        ClaimHeadersKey, ForwardAuthorizationKey, RateLimitKey, AllowEncodedSlashesKey, StepUpPolicy.MaxAuthAgeKey, StepUpPolicy.AcrKey];

    public static readonly RoutePolicy AuthenticatedDefault = new(false, [], [], null, false);

    private RoutePolicy(bool anonymous, string[] scopes, string[] anyScopes, string? orgRouteValue, bool forwardAuthorization,
        RateLimitPolicy? rateLimit = null, string? projectRouteValue = null, string[]? issuers = null, ClaimHeader[]? claimHeaders = null)
    {
        RateLimit = rateLimit;
        Anonymous = anonymous;
        RequiredScopes = scopes;
        AnyScopes = anyScopes;
        OrgRouteValue = orgRouteValue;
        ProjectRouteValue = projectRouteValue;
        ForwardAuthorization = forwardAuthorization;
        Issuers = issuers;
        ClaimHeaders = claimHeaders ?? [];
        AcceptsApiKeys = issuers is null || Array.IndexOf(issuers, Configuration.IssuerOptions.ControlPlaneName) >= 0;
        ScopeError = scopes.Length == 0 && anyScopes.Length == 0 ? null
            : anyScopes.Length == 0 ? EdgeError.InsufficientScope(string.Join(' ', scopes))
            : new EdgeError(403, Shared.Errors.ErrorCodes.Forbidden, "Forbidden",
                $"The credential lacks a scope this route requires: {DescribeScopes(scopes, anyScopes)}.",
                $"Bearer error=\"insufficient_scope\", scope=\"{string.Join(' ', scopes.Concat(anyScopes))}\"");
        IssuerError = issuers is null ? null : EdgeError.Unauthorized($"This route accepts only credentials of the issuers {string.Join(", ", issuers)}.");
    }

    public bool Anonymous { get; }
    /// <summary><c>Authio.Scopes</c>: each must be covered (<see cref="ScopeGrammar"/>).</summary>
    public string[] RequiredScopes { get; }
    /// <summary><c>Authio.AnyScopes</c>: when not empty, at least one must be covered.</summary>
    public string[] AnyScopes { get; }
    public string? OrgRouteValue { get; }
    /// <summary><c>Authio.ProjectRouteValue</c>: the route value that names a project the caller must hold a role on.</summary>
    public string? ProjectRouteValue { get; }
    /// <summary><c>Authio.Issuers</c> route names (<see cref="Configuration.IssuerOptions.RouteName"/>); null = every issuer.</summary>
    public string[]? Issuers { get; }
    /// <summary>API keys are the control plane's credentials: accepted when <see cref="Issuers"/> is unset or names <c>control-plane</c>.</summary>
    public bool AcceptsApiKeys { get; }
    /// <summary>Built once: the 401 for a credential of an issuer the route does not accept.</summary>
    public EdgeError? IssuerError { get; }
    /// <summary><c>Authio.ClaimHeaders</c>, compiled; empty for none.</summary>
    public ClaimHeader[] ClaimHeaders { get; }
    public bool ForwardAuthorization { get; }
    public EdgeError? ScopeError { get; }
    /// <summary>The route's own limit (<c>Authio.RateLimit</c>); null defers to the caller's org, then to <c>Edge:RateLimits:Default</c>.</summary>
    public RateLimitPolicy? RateLimit { get; }
    /// <summary><c>Authio.AllowEncodedSlashes</c>: this route accepts <c>%2F</c>, <c>%5C</c> and '\' in its path (dot segments stay refused).</summary>
    public bool AllowEncodedSlashes { get; private init; }
    /// <summary><c>Authio.MaxAuthAge</c> and <c>Authio.Acr</c>, compiled; null when the route sets neither.</summary>
    public StepUpPolicy? StepUp { get; private init; }

    /// <summary>Whether an issuer (by its <see cref="Keys.TrustedIssuer.RouteName"/>) may call this route.</summary>
    public bool AcceptsIssuer(string routeName)
    {
        foreach (var name in Issuers!)
        {
            if (string.Equals(name, routeName, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    private static string DescribeScopes(string[] all, string[] any) =>
        any.Length == 0 ? string.Join(' ', all)
        : all.Length == 0 ? "one of " + string.Join(' ', any)
        : string.Join(' ', all) + " and one of " + string.Join(' ', any);

    /// <summary>Compiles <paramref name="route"/>'s metadata, or explains what is wrong naming the route and key.</summary>
    public static bool TryCompile(RouteConfig route, out RoutePolicy policy, out string? error) =>
        TryCompile(route, null, out policy, out error);

    /// <summary>As above; <paramref name="issuerNames"/> are the names <c>Authio.Issuers</c> may use (null: not checked).</summary>
    public static bool TryCompile(RouteConfig route, IReadOnlySet<string>? issuerNames, out RoutePolicy policy, out string? error)
    {
        policy = AuthenticatedDefault;
        error = null;
        // YARP's own route policies need ASP.NET middleware the proxy listener does not run: refused at load rather
        // than accepted and left unenforced.
        if (!string.IsNullOrEmpty(route.AuthorizationPolicy) || !string.IsNullOrEmpty(route.CorsPolicy))
        {
            var field = string.IsNullOrEmpty(route.AuthorizationPolicy) ? nameof(route.CorsPolicy) : nameof(route.AuthorizationPolicy);
            error = $"Route '{route.RouteId}': {field} is not supported by the edge (it authorizes with Authio.* metadata; "
                + "CORS belongs to the upstream or a proxy in front).";
            return false;
        }
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
        if (!TryReadScopes(route, ScopesKey, out var scopes, out error) || !TryReadScopes(route, AnyScopesKey, out var anyScopes, out error)
            || !TryReadRouteValue(route, OrgRouteValueKey, out var orgRouteValue, out error)
            || !TryReadRouteValue(route, ProjectRouteValueKey, out var projectRouteValue, out error)
            || !TryReadIssuers(route, issuerNames, out var issuers, out error))
        {
            return false;
        }
        ClaimHeader[]? claimHeaders = null;
        if (metadata.TryGetValue(ClaimHeadersKey, out var claimHeaderText)
            && !ClaimHeaderMap.TryParse(route.RouteId, claimHeaderText, out claimHeaders, out var claimHeaderError))
        {
            error = $"Route '{route.RouteId}': {ClaimHeadersKey} {claimHeaderError}.";
            return false;
        }
        if (!StepUpPolicy.TryRead(route, out var stepUp, out error))
        {
            return false;
        }
        if (anonymous && (scopes.Length > 0 || anyScopes.Length > 0 || orgRouteValue is not null || projectRouteValue is not null
            || issuers is not null || claimHeaders is not null || stepUp is not null))
        {
            error = $"Route '{route.RouteId}': {AnonymousKey}=true cannot be combined with {ScopesKey}, {AnyScopesKey}, {OrgRouteValueKey}, "
                + $"{ProjectRouteValueKey}, {IssuersKey}, {ClaimHeadersKey}, {StepUpPolicy.MaxAuthAgeKey} or {StepUpPolicy.AcrKey}.";
            return false;
        }
        RateLimitPolicy? rateLimit = null;
        if (metadata.TryGetValue(RateLimitKey, out var limitText) && !RateLimitPolicy.TryParse(route.RouteId, limitText, out rateLimit, out var limitError))
        {
            error = $"Route '{route.RouteId}': {RateLimitKey} {limitError}.";
            return false;
        }
        policy = new RoutePolicy(anonymous, scopes, anyScopes, orgRouteValue, forward, rateLimit, projectRouteValue, issuers, claimHeaders) { AllowEncodedSlashes = allowEncodedSlashes, StepUp = stepUp };
        return true;
    }

    private static bool TryReadScopes(RouteConfig route, string key, out string[] scopes, out string? error)
    {
        scopes = [];
        error = null;
        if (!route.Metadata!.TryGetValue(key, out var text))
        {
            return true;
        }
        scopes = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();
        foreach (var scope in scopes)
        {
            if (!ScopeGrammar.TryValidate(scope, out var scopeError))
            {
                error = $"Route '{route.RouteId}': {key} {scopeError}.";
                return false;
            }
        }
        if (scopes.Length == 0)
        {
            error = $"Route '{route.RouteId}': {key} lists no scope.";
            return false;
        }
        return true;
    }

    private static bool TryReadRouteValue(RouteConfig route, string key, out string? name, out string? error)
    {
        name = null;
        error = null;
        if (!route.Metadata!.TryGetValue(key, out var text))
        {
            return true;
        }
        name = text.Trim();
        if (name.Length == 0 || !RouteHasParameter(route, name))
        {
            error = $"Route '{route.RouteId}': {key} '{text}' must name a parameter of the route's Match.Path.";
            return false;
        }
        return true;
    }

    private static bool TryReadIssuers(RouteConfig route, IReadOnlySet<string>? known, out string[]? issuers, out string? error)
    {
        issuers = null;
        error = null;
        if (!route.Metadata!.TryGetValue(IssuersKey, out var text))
        {
            return true;
        }
        issuers = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();
        if (issuers.Length == 0)
        {
            error = $"Route '{route.RouteId}': {IssuersKey} lists no issuer.";
            return false;
        }
        if (known is not null && issuers.FirstOrDefault(name => !known.Contains(name)) is { } unknown)
        {
            error = $"Route '{route.RouteId}': {IssuersKey} names unknown issuer '{unknown}' (configured: {string.Join(", ", known.Order(StringComparer.Ordinal))}).";
            return false;
        }
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

    /// <summary>Whether the path template has the parameter <paramref name="name"/> (<c>{name}</c>, <c>{name:int}</c>, <c>{**name}</c>…), not merely one starting like it.</summary>
    private static bool RouteHasParameter(RouteConfig route, string name)
    {
        var path = route.Match.Path;
        for (var open = path?.IndexOf('{') ?? -1; open >= 0; open = path!.IndexOf('{', open + 1))
        {
            var rest = path.AsSpan(open + 1).TrimStart('*');
            var end = rest.IndexOfAny(":=?}");
            if (end > 0 && rest[..end].Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>Compiled policies, keyed by the immutable <see cref="RouteConfig"/> instance YARP hands each request.</summary>
internal sealed class RoutePolicies(IReadOnlySet<string>? issuerNames = null)
{
    private readonly ConditionalWeakTable<RouteConfig, RoutePolicy> _compiled = new();

    /// <summary>Names <c>Authio.Issuers</c> may use: each <c>Edge:Issuers</c> entry's name, and <c>control-plane</c> with edge sync.</summary>
    public IReadOnlySet<string>? IssuerNames { get; } = issuerNames;

    public bool TryCompile(RouteConfig route, out RoutePolicy policy, out string? error) =>
        RoutePolicy.TryCompile(route, IssuerNames, out policy, out error);

    public void Store(RouteConfig route, RoutePolicy policy) => _compiled.AddOrUpdate(route, policy);

    public RoutePolicy Get(RouteConfig route)
    {
        if (_compiled.TryGetValue(route, out var policy))
        {
            return policy;
        }
        // Routes always pass the config filter first; this is a safety net that still fails closed.
        policy = TryCompile(route, out var compiled, out _) ? compiled : RoutePolicy.AuthenticatedDefault;
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
        if (!policies.TryCompile(route, out var policy, out var error))
        {
            throw new InvalidOperationException(error);
        }
        policies.Store(route, policy);
        return new(route);
    }
}
