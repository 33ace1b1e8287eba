using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Storage;
using Microsoft.AspNetCore.Diagnostics;

namespace Authio.ControlPlane.Api;

/// <summary>
/// Answers that no endpoint wrote itself (an exception, an unmatched route, a body the server refused) as problem+json
/// with a stable <c>code</c>, like every other error: a client never sees an empty 4xx or a 500 for bad input.
/// </summary>
internal static partial class ProblemAnswers
{
    public static WebApplication UseProblemAnswers(this WebApplication app, ControlPlaneOptions options)
    {
        app.UseExceptionHandler(e => e.Run(async http =>
        {
            var error = http.Features.Get<IExceptionHandlerFeature>()?.Error;
            if (error is BadHttpRequestException { StatusCode: 413 })
            {
                await Failure.PayloadTooLarge(options.Limits.MaxRequestBodyBytes).ExecuteAsync(http);
                return;
            }
            if (error is BadHttpRequestException bad)
            {
                await Failure.Invalid("body", "The request body is missing or is not valid JSON.", bad.Message).ExecuteAsync(http);
                return;
            }
            if (StoreFailures.IsUnavailable(error))
            {
                Log.StoreUnavailable(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Authio.ControlPlane"), error!.GetType().Name, error.Message);
                await Failure.StoreUnavailable().ExecuteAsync(http);
                return;
            }
            Log.Unhandled(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Authio.ControlPlane"), error);
            await Failure.Internal().ExecuteAsync(http);
        }));
        app.UseStatusCodePages(async ctx =>
        {
            var http = ctx.HttpContext;
            if (http.Response.HasStarted)
            {
                return;
            }
            switch (http.Response.StatusCode)
            {
                case 404:
                    await Failure.NotFound("Route").ExecuteAsync(http);
                    break;
                case 413:
                    await Failure.PayloadTooLarge(options.Limits.MaxRequestBodyBytes).ExecuteAsync(http);
                    break;
                case 400 or 415:
                    await Failure.Invalid("body", "The request is malformed or its parameters are invalid.").ExecuteAsync(http);
                    break;
            }
        });
        return app;
    }
}
