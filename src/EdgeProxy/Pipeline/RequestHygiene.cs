using System.Diagnostics;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Errors;
using Microsoft.AspNetCore.Http.Features;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>
/// The edge's first stage, before routing: path hygiene (<see cref="PathHygiene"/>), then the spoofable-header scrub
/// (<see cref="IdentityHeaderScrub"/>), whose pass also measures the header section against
/// <c>Edge:Limits:MaxRequestHeaderBytes</c>. Before routing, so no route (an anonymous <c>/public/{**rest}</c>
/// included) is ever matched on a path the edge would refuse, and no route matches on a spoofed header. An encoded
/// separator is the one verdict that depends on the route (<c>Authio.AllowEncodedSlashes</c>): it is marked here and
/// settled by <see cref="RouteGateMiddleware"/> once the route is known. A clean request allocates nothing.
/// </summary>
internal static class RequestHygiene
{
    public static EdgeError? Check(HttpContext context, long maxHeaderBytes)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var verdict = PathHygiene.Inspect(string.IsNullOrEmpty(target) ? context.Request.Path.Value : target);
        if (verdict == PathVerdict.DotSegment)
        {
            return EdgeError.DotSegmentPath;
        }
        if (verdict == PathVerdict.EncodedSeparator)
        {
            context.Features.Set(EncodedSeparatorMark.Instance);
        }
        IdentityHeaderScrub.Scrub(context.Request.Headers, out var headerBytes);
        return headerBytes > maxHeaderBytes ? EdgeError.RequestHeaderTooLarge : null;
    }

    /// <summary>
    /// Whether <see cref="Check"/> marked the request for an encoded separator. Only a target holding a '%' or a '\' can
    /// be marked, so other requests skip the mark's look-up: a request feature that is absent is a miss that falls
    /// through to the connection's features, on nearly every request.
    /// </summary>
    public static bool HasEncodedSeparator(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        return (string.IsNullOrEmpty(target) || target.AsSpan().IndexOfAny('%', '\\') >= 0)
            && context.Features.Get<EncodedSeparatorMark>() is not null;
    }
}

/// <summary>Set on a request whose path carries an encoded separator; only its route can admit it.</summary>
internal sealed class EncodedSeparatorMark
{
    public static readonly EncodedSeparatorMark Instance = new();

    private EncodedSeparatorMark()
    {
    }
}

/// <summary>Runs <see cref="RequestHygiene"/> at the start of the proxy listener's pipeline (before <c>UseRouting</c>).</summary>
internal sealed class RequestHygieneMiddleware(RequestDelegate next, EdgeOptions options, EdgeMetrics metrics)
{
    private readonly long _maxHeaderBytes = options.Limits.MaxRequestHeaderBytes;

    public Task InvokeAsync(HttpContext context)
    {
        var error = RequestHygiene.Check(context, _maxHeaderBytes);
        if (error is null)
        {
            return next(context);
        }
        metrics.Decision(error.Code);
        // Refused before routing: no route to name. Timed from here: the check before it is not worth a clock read on
        // every admitted request.
        metrics.Requests.Refused(metrics.Requests.UnmatchedTags, error.Code,
            RequestMetrics.CredentialOf(null, context.Request.Headers.Authorization), Stopwatch.GetTimestamp());
        return EdgeResponses.WriteAsync(context, error);
    }
}
