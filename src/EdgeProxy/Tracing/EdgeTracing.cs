using System.Diagnostics;
using System.Runtime.CompilerServices;
using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.Tracing;

/// <summary>
/// The edge's spans, all from one source: the server span (<see cref="ServerSpanMiddleware"/>), the stage span around
/// the edge's own work (authenticate → authorize → rate limit → identity headers) and the forward's client span
/// (<see cref="ForwardSpanMiddleware"/>), both children of the server span. The stage and forward spans exist only
/// under a sampled server span: tracing off, or a request not sampled, costs a field read and 0 B.
/// </summary>
internal static class EdgeTracing
{
    public const string SourceName = "Authio.Edge";
    public const string StageName = "edge";
    public const string ForwardName = "forward";
    public const string RouteTag = "authio.route";
    public const string DecisionTag = "authio.decision";
    public const string CredentialTypeTag = "authio.credential_type";
    public const string CacheHitTag = "authio.token_cache.hit";
    public const string Anonymous = "anonymous";

    private static readonly ActivitySource Source = new(SourceName);
    private static readonly object True = true;
    private static readonly object False = false;

    /// <summary>The server span of a request the sampler chose, joining the caller's context when it has one.</summary>
    public static Activity? StartServer(string method, ActivityContext parent) =>
        Source.StartActivity(ActivityKind.Server, parent, name: method);

    /// <summary>The forward's client span, under the current server span.</summary>
    public static Activity? StartForward() => Source.StartActivity(ForwardName, ActivityKind.Client);

    /// <summary>Whether <paramref name="current"/> is one of the edge's own recorded spans (a sampled request).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsTracing(Activity? current) => current is not null && ReferenceEquals(current.Source, Source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Activity? StartStage(string routeId) => Source.HasListeners() && IsTracing(Activity.Current) ? Start(routeId) : null;

    private static Activity? Start(string routeId)
    {
        var activity = Source.StartActivity(StageName, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(RouteTag, routeId);
        }
        return activity;
    }

    /// <summary>Ends the stage with its decision (the refusal's code, or <c>ok</c>) and the caller's credential type.</summary>
    public static void EndStage(Activity? activity, string decision, bool anonymousRoute, EdgeIdentity? identity)
    {
        if (activity is null)
        {
            return;
        }
        if (activity.IsAllDataRequested)
        {
            activity.SetTag(DecisionTag, decision);
            activity.SetTag(CredentialTypeTag, anonymousRoute ? Anonymous : identity?.AuthType);
            if (decision != "ok")
            {
                activity.SetStatus(ActivityStatusCode.Error, decision);
            }
        }
        activity.Stop(); // Activity.Current is the server span again: the forward's client span is its child
    }

    /// <summary>Marks the current edge span with whether the token cache answered.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void TokenCache(bool hit)
    {
        if (Source.HasListeners())
        {
            Tag(hit);
        }
    }

    private static void Tag(bool hit)
    {
        if (Activity.Current is { IsAllDataRequested: true } activity && IsTracing(activity))
        {
            activity.SetTag(CacheHitTag, hit ? True : False);
        }
    }
}
