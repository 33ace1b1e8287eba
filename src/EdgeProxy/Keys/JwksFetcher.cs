namespace Authio.EdgeProxy.Keys;

/// <summary>Reads a JWKS document from an http(s) URL or a local file path, bounded in size and time.</summary>
internal sealed class JwksFetcher(HttpClient http)
{
    public const string HttpClientName = "Authio.Jwks";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public async Task<(byte[]? Document, string? Error)> FetchAsync(string location, CancellationToken cancellationToken)
    {
        try
        {
            if (Uri.TryCreate(location, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(Timeout);
                using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (!response.IsSuccessStatusCode)
                {
                    return (null, $"HTTP {(int)response.StatusCode} from {uri}");
                }
                if (response.Content.Headers.ContentLength > JwksParser.MaxDocumentBytes)
                {
                    return (null, "response larger than 1 MiB");
                }
                var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
                return body.Length > JwksParser.MaxDocumentBytes ? (null, "response larger than 1 MiB") : (body, null);
            }
            var path = uri is { IsFile: true } ? uri.LocalPath : location;
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return (null, $"file '{path}' does not exist");
            }
            if (info.Length > JwksParser.MaxDocumentBytes)
            {
                return (null, "file larger than 1 MiB");
            }
            return (await File.ReadAllBytesAsync(path, cancellationToken), null);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or UnauthorizedAccessException)
        {
            return (null, ex.GetType().Name + ": " + ex.Message);
        }
    }
}
