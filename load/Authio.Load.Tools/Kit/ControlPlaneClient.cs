using System.Net.Http.Headers;
using System.Text.Json;

namespace Authio.Load.Tools.Kit;

/// <summary>
/// The control plane's public API as the kit uses it: an admin signs in, creates API keys (they exist only there:
/// the edge looks them up by the control plane's edge-sync API) and revokes them.
/// </summary>
internal sealed class ControlPlaneClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _email;
    private readonly string _password;
    private string? _token;

    public ControlPlaneClient(string url, string email, string password)
    {
        _http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        _email = email;
        _password = password;
    }

    public static ControlPlaneClient? FromOptions(Options o) => o.Get("cp") is { } url
        ? new ControlPlaneClient(url, o.Get("email") ?? Environment.GetEnvironmentVariable("AUTHIO_LOAD_EMAIL") ?? throw new ArgumentException("--email is required with --cp"),
            o.Get("password") ?? Environment.GetEnvironmentVariable("AUTHIO_LOAD_PASSWORD") ?? throw new ArgumentException("--password (or AUTHIO_LOAD_PASSWORD) is required with --cp"))
        : null;

    /// <summary>Creates a live API key with the given scopes; returns its id and its secret (shown only once).</summary>
    public async Task<Credential> CreateApiKeyAsync(string name, string[] scopes, CancellationToken cancel = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/api-keys") { Content = JsonContent.Create(new { name, scopes, environment = "live" }) };
        using var response = await SendAsync(request, cancel);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(cancel);
        return new Credential(created.GetProperty("key").GetString()!, created.GetProperty("id").GetString()!);
    }

    public async Task RevokeApiKeyAsync(string id, CancellationToken cancel = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"/v1/api-keys/{Uri.EscapeDataString(id)}");
        using var _ = await SendAsync(request, cancel);
    }

    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancel)
    {
        _token ??= await LoginAsync(cancel);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        var response = await _http.SendAsync(request, cancel);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancel);
            response.Dispose();
            throw new HttpRequestException($"{request.Method} {request.RequestUri}: {(int)response.StatusCode} {body}");
        }
        return response;
    }

    private async Task<string> LoginAsync(CancellationToken cancel)
    {
        using var response = await _http.PostAsJsonAsync("/v1/auth/login", new { email = _email, password = _password }, cancel);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(cancel)).GetProperty("access_token").GetString()!;
    }
}
