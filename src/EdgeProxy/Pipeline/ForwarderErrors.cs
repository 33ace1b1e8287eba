using Authio.EdgeProxy.Errors;
using Yarp.ReverseProxy.Forwarder;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>
/// After YARP's forwarder has run: when it failed and nothing has been sent yet, YARP leaves a bare status code
/// (502/503/504) with no body; this writes the edge's problem+json for it instead. The body never says which
/// destination failed or why (that is in the edge's log, YARP's forwarder warnings). A response from the upstream
/// itself, whatever its status, is never touched: <see cref="IForwarderErrorFeature"/> is only set when forwarding failed.
/// </summary>
internal static class ForwarderErrors
{
    public static Task AnswerAsync(HttpContext context)
    {
        var response = context.Response;
        if (response.HasStarted || response.StatusCode < 400)
        {
            return Task.CompletedTask; // the normal case: the upstream's response is on its way
        }
        var failure = context.Features.Get<IForwarderErrorFeature>();
        if (failure is null || failure.Error == ForwarderError.None || context.RequestAborted.IsCancellationRequested)
        {
            return Task.CompletedTask; // not a forwarding failure, or the client is gone
        }
        return EdgeResponses.WriteAsync(context, Map(failure.Error, response.StatusCode));
    }

    /// <summary>The decision code of a failed forward (<c>bad_gateway</c>, <c>upstream_timeout</c>, …) for the metrics; null when the upstream answered.</summary>
    public static string? FailureCode(HttpContext context, int status)
    {
        if (status < 400)
        {
            return null;
        }
        var failure = context.Features.Get<IForwarderErrorFeature>();
        return failure is null || failure.Error == ForwarderError.None ? null : Map(failure.Error, status).Code;
    }

    internal static EdgeError Map(ForwarderError error, int status) => error switch
    {
        ForwarderError.NoAvailableDestinations => EdgeError.UpstreamUnavailable,
        ForwarderError.RequestTimedOut => EdgeError.UpstreamTimeout,
        _ => status switch
        {
            StatusCodes.Status504GatewayTimeout => EdgeError.UpstreamTimeout, // e.g. the upstream stalled reading the body
            StatusCodes.Status503ServiceUnavailable => EdgeError.UpstreamUnavailable,
            StatusCodes.Status400BadRequest or StatusCodes.Status408RequestTimeout => EdgeError.RequestBodyFailed,
            _ => EdgeError.BadGateway,
        },
    };
}
