using System.Globalization;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Errors;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;
using Yarp.ReverseProxy.Configuration;

namespace Authio.EdgeProxy.Policy;

/// <summary>
/// A route's step-up requirement (RFC 9470): <c>Authio.MaxAuthAge</c> (the user's sign-in, <c>auth_time</c>, at most
/// this many seconds old) and/or <c>Authio.Acr</c> (at least this <see cref="AuthenticationLevels"/> level). Its
/// refusals are built once with the route, so the check compares two numbers and returns a cached answer: 0 B.
/// </summary>
/// <remarks>
/// Order: the step-up check is the last authorization check. Whatever a new sign-in cannot cure (issuer, scopes,
/// org, project) is answered first, so a client is only asked to step up when stepping up lets the request through.
/// API keys have no sign-in: no step-up can make one satisfy the route, so they get 403 <c>forbidden</c> (a challenge
/// would invite a client into a step-up flow that cannot succeed).
/// </remarks>
internal sealed class StepUpPolicy
{
    public const string MaxAuthAgeKey = "Authio.MaxAuthAge";
    public const string AcrKey = "Authio.Acr";

    private readonly EdgeError? _tooOld;
    private readonly EdgeError? _tooWeak;
    private readonly EdgeError? _both;

    private StepUpPolicy(long maxAuthAge, string? acr)
    {
        MaxAuthAge = maxAuthAge;
        Acr = acr;
        MinRank = AuthenticationLevels.Rank(acr);
        var age = maxAuthAge.ToString(CultureInfo.InvariantCulture);
        if (maxAuthAge > 0)
        {
            _tooOld = Challenge($"This route requires a sign-in within the last {age} seconds; sign in again.", $", max_age={age}");
        }
        if (acr is not null)
        {
            _tooWeak = Challenge($"This route requires a sign-in of at least {acr}; sign in with a stronger method.", $", acr_values=\"{acr}\"");
        }
        if (maxAuthAge > 0 && acr is not null)
        {
            _both = Challenge($"This route requires a sign-in within the last {age} seconds of at least {acr}; sign in again with a stronger method.",
                $", max_age={age}, acr_values=\"{acr}\"");
        }
        ApiKeyRefused = new EdgeError(403, ErrorCodes.Forbidden, "Forbidden",
            "This route requires a user's sign-in (" + Describe(maxAuthAge, acr) + "); API keys never satisfy it.", null);
    }

    /// <summary>Seconds; 0 = no age limit.</summary>
    public long MaxAuthAge { get; }
    /// <summary>The minimum level's URN; null = no minimum.</summary>
    public string? Acr { get; }
    /// <summary><see cref="AuthenticationLevels.Rank"/> of <see cref="Acr"/>; 0 = no minimum.</summary>
    public int MinRank { get; }
    /// <summary>The 403 for an API key on this route.</summary>
    public EdgeError ApiKeyRefused { get; }

    /// <summary>
    /// The refusal for <paramref name="identity"/> at <paramref name="nowUnixSeconds"/>, or null. A token without
    /// <c>auth_time</c> is too old for any age limit; one without a known <c>acr</c> is too weak for any minimum.
    /// </summary>
    public EdgeError? Check(EdgeIdentity identity, long nowUnixSeconds)
    {
        if (identity.KeyId is not null)
        {
            return ApiKeyRefused;
        }
        // Compared as "signed in before now − limit": no subtraction from auth_time, so no value it carries can overflow
        // into "recent" (a missing auth_time is long.MinValue, before any limit).
        var tooOld = MaxAuthAge > 0 && identity.AuthTime < nowUnixSeconds - MaxAuthAge;
        var tooWeak = identity.AcrRank < MinRank;
        return tooOld ? (tooWeak ? _both : _tooOld) : tooWeak ? _tooWeak : null;
    }

    private static EdgeError Challenge(string detail, string parameters) =>
        new(401, ErrorCodes.StepUpRequired, "Step-up required", detail,
            $"Bearer error=\"insufficient_user_authentication\", error_description=\"{detail}\"{parameters}");

    private static string Describe(long maxAuthAge, string? acr) =>
        maxAuthAge > 0 && acr is not null ? $"within {maxAuthAge} s, at least {acr}"
        : maxAuthAge > 0 ? $"within {maxAuthAge} s"
        : $"at least {acr}";

    /// <summary>Reads the two keys of <paramref name="route"/>: null policy when neither is set; an error naming route and key when one is bad.</summary>
    public static bool TryRead(RouteConfig route, out StepUpPolicy? policy, out string? error)
    {
        policy = null;
        error = null;
        var metadata = route.Metadata!;
        long maxAuthAge = 0;
        if (metadata.TryGetValue(MaxAuthAgeKey, out var ageText)
            && (!long.TryParse(ageText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out maxAuthAge) || maxAuthAge <= 0))
        {
            error = $"Route '{route.RouteId}': {MaxAuthAgeKey} must be a positive whole number of seconds, not '{ageText}'.";
            return false;
        }
        string? acr = null;
        if (metadata.TryGetValue(AcrKey, out var acrText) && (acr = AuthenticationLevels.Normalize(acrText.Trim())) is null)
        {
            error = $"Route '{route.RouteId}': {AcrKey} '{acrText}' is not a level (one of {AuthenticationLevels.Password}, "
                + $"{AuthenticationLevels.MultiFactor}, {AuthenticationLevels.PhishingResistant}, or pwd, mfa, phr).";
            return false;
        }
        if (maxAuthAge > 0 || acr is not null)
        {
            policy = new StepUpPolicy(maxAuthAge, acr);
        }
        return true;
    }
}
