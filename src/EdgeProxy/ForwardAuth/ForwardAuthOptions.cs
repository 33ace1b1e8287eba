namespace Authio.EdgeProxy.ForwardAuth;

/// <summary>
/// <c>Edge:ForwardAuth</c>: a listener answering another proxy's authentication sub-request (nginx
/// <c>auth_request</c>, Traefik <c>forwardAuth</c>, Envoy <c>ext_authz</c>) with the decision the edge would take inline.
/// </summary>
internal sealed class ForwardAuthOptions
{
    /// <summary>Shortest accepted <see cref="SharedSecret"/>.</summary>
    public const int MinSecretLength = 16;

    /// <summary>The listener's URLs (<c>;</c>-separated); empty = off. Bind it where only the proxy reaches it (loopback, a private network).</summary>
    public string? Urls { get; set; }

    /// <summary>With <see cref="SharedSecret"/>: the header that must carry the secret on every check.</summary>
    public string? SharedSecretHeader { get; set; }

    /// <summary>The secret the proxy sends in <see cref="SharedSecretHeader"/> (compared in constant time).</summary>
    public string? SharedSecret { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Urls);

    public string[] UrlList => (Urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Bad values, each naming its key.</summary>
    public static IEnumerable<string> Validate(ForwardAuthOptions options)
    {
        foreach (var url in options.UrlList)
        {
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal),
                    UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                yield return $"Edge:ForwardAuth:Urls '{url}' is not an http:// or https:// URL.";
            }
        }
        var hasHeader = !string.IsNullOrWhiteSpace(options.SharedSecretHeader);
        var hasSecret = !string.IsNullOrEmpty(options.SharedSecret);
        if (hasHeader != hasSecret)
        {
            yield return "Edge:ForwardAuth:SharedSecretHeader and Edge:ForwardAuth:SharedSecret must be set together.";
        }
        if (hasSecret && options.SharedSecret!.Length < MinSecretLength)
        {
            yield return $"Edge:ForwardAuth:SharedSecret must be at least {MinSecretLength} characters.";
        }
        if (hasHeader && (options.SharedSecretHeader!.Any(c => c <= ' ' || c >= 0x7F || c == ':')
            || options.SharedSecretHeader!.StartsWith(Shared.Tokens.IdentityHeaders.Prefix, StringComparison.OrdinalIgnoreCase)))
        {
            yield return "Edge:ForwardAuth:SharedSecretHeader must be a header name (not X-Authio-*, which the edge strips).";
        }
    }
}
