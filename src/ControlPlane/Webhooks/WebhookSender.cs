using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Authio.ControlPlane.Hosting;
using Authio.Shared.Webhooks;

namespace Authio.ControlPlane.Webhooks;

/// <summary>The outcome of one attempt: an HTTP status (null when none came back), how long it took, and why it failed.</summary>
internal readonly record struct WebhookAttempt(bool Delivered, int? Status, long DurationMs, string? Error);

/// <summary>
/// Sends one signed delivery: <c>POST</c> with the JSON body, <c>Authio-Event-Id</c> and <c>Authio-Signature</c>, within
/// <c>Webhooks:Timeout</c>. Redirects are not followed (a 3xx is a failed attempt), no proxy is used (it would connect
/// on our behalf, past the address checks), and every connection goes through <see cref="WebhookAddressPolicy"/>.
/// </summary>
internal sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    public WebhookSender(WebhookAddressPolicy policy, ControlPlaneOptions options)
    {
        _timeout = options.Webhooks.Timeout;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectCallback = policy.ConnectAsync,
            ConnectTimeout = _timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            MaxConnectionsPerServer = options.Webhooks.MaxConcurrencyPerEndpoint,
            MaxResponseHeadersLength = 16,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Authio-Webhooks/1");
    }

    public async Task<WebhookAttempt> SendAsync(string url, byte[] body, string eventId, string signature, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(_timeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(WebhookSignature.EventIdHeader, eventId);
        request.Headers.TryAddWithoutValidation(WebhookSignature.SignatureHeader, signature);
        var started = Stopwatch.GetTimestamp();
        long Elapsed() => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        try
        {
            // Headers are enough: the receiver's body is never read beyond what the connection needs.
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            return status is >= 200 and < 300
                ? new WebhookAttempt(true, status, Elapsed(), null)
                : new WebhookAttempt(false, status, Elapsed(), status is >= 300 and < 400 ? "redirect (not followed)" : "http " + status);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return new WebhookAttempt(false, null, Elapsed(), "timeout");
        }
        catch (HttpRequestException e) when (!stop.IsCancellationRequested)
        {
            return new WebhookAttempt(false, null, Elapsed(), Reason(e));
        }
    }

    // A short, fixed vocabulary: no receiver-controlled text ends up in the log or the delivery record.
    private static string Reason(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case WebhookAddressRefusedException:
                    return "address refused";
                case SocketException s:
                    return "connection failed: " + s.SocketErrorCode;
                case System.Security.Authentication.AuthenticationException:
                    return "tls failed";
            }
        }

        return e.HttpRequestError == HttpRequestError.Unknown ? "request failed" : "request failed: " + e.HttpRequestError;
    }

    public void Dispose() => _http.Dispose();
}
