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
        var started = Stopwatch.GetTimestamp();
        var error = RequestHygiene.Check(context, _maxHeaderBytes);
        if (error is null)
        {
            return next(context);
        }
        metrics.Decision(error.Code);
        // Refused before routing: no route to name.
        metrics.Requests.Refused(metrics.Requests.UnmatchedTags, error.Code,
            RequestMetrics.CredentialOf(null, context.Request.Headers.Authorization), started);
        return EdgeResponses.WriteAsync(context, error);
    }
}
