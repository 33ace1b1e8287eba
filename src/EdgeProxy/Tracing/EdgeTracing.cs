using System.Diagnostics;
using System.Runtime.CompilerServices;
using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.Tracing;

/// <summary>
/// The edge's span: one per request, around its own stage (authenticate → authorize → rate limit → identity headers),
/// child of ASP.NET Core's server span and sibling of the forward's client span. Created only while a listener
/// (the tracer provider, <see cref="TracingServices"/>) is attached: tracing off costs one field read and 0 B.
/// </summary>
internal static class EdgeTracing
{
    public const string SourceName = "Authio.Edge";
    public const string StageName = "edge";
    public const string RouteTag = "authio.route";
    public const string DecisionTag = "authio.decision";
    public const string CredentialTypeTag = "authio.credential_type";
    public const string CacheHitTag = "authio.token_cache.hit";
    public const string Anonymous = "anonymous";

    private static readonly ActivitySource Source = new(SourceName);
    private static readonly object True = true;
    private static readonly object False = false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Activity? StartStage(string routeId) => Source.HasListeners() ? Start(routeId) : null;

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
        if (Activity.Current is { IsAllDataRequested: true } activity && ReferenceEquals(activity.Source, Source))
        {
            activity.SetTag(CacheHitTag, hit ? True : False);
        }
    }
}
