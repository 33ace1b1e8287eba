using System.Text;
using Authio.EdgeProxy.Configuration;

namespace Authio.EdgeProxy.Keys;

/// <summary>One entry of <c>Edge:Issuers</c>, compiled: UTF-8 names precomputed, algorithms resolved, key set swapped whole.</summary>
internal sealed class TrustedIssuer
{
    private volatile KeySet? _keys;

    public TrustedIssuer(IssuerOptions options)
    {
        Options = options;
        Name = options.Issuer;
        RouteName = options.RouteName;
        NameUtf8 = Encoding.UTF8.GetBytes(options.Issuer);
        Audiences = options.Audiences.Select(Encoding.UTF8.GetBytes).ToArray();
        Algorithms = (options.Algorithms is { Count: > 0 } names ? names : [.. IssuerOptions.DefaultAlgorithms])
            .Select(name => JwsAlgorithm.FromName(name) ?? throw new InvalidOperationException($"Unknown algorithm '{name}'."))
            .ToArray();
        if (!string.IsNullOrEmpty(options.SharedSecret))
        {
            Hmac = new HmacSigningKey(this, DecodeSecret(options.SharedSecret)!);
        }
    }

    public IssuerOptions Options { get; }
    public string Name { get; }
    /// <summary>What routes call it in <c>Authio.Issuers</c> (<see cref="IssuerOptions.RouteName"/>).</summary>
    public string RouteName { get; }
    public byte[] NameUtf8 { get; }
    public byte[][] Audiences { get; }
    public JwsAlgorithm[] Algorithms { get; }
    public HmacSigningKey? Hmac { get; }
    public bool UsesJwks => !string.IsNullOrEmpty(Options.JwksUri);

    /// <summary>The current JWKS keys, or null before the first successful load (or after the last good set aged out).</summary>
    public KeySet? Keys => _keys;

    /// <summary>Ready when it can verify something: a loaded key set or a shared secret.</summary>
    public bool IsReady => !UsesJwks || _keys is not null;

    public bool Allows(JwsAlgorithm alg) => Array.IndexOf(Algorithms, alg) >= 0;

    internal void SetKeys(KeySet? keys) => _keys = keys;

    private volatile KeyRefreshFailure? _refreshFailure;

    /// <summary>
    /// Set while the JWKS endpoint fails or serves a set that is refused (the last good keys keep serving); null once a
    /// refresh succeeds. <c>/readyz</c> reports it, so an operator sees a key source that went bad before its keys age out.
    /// </summary>
    public KeyRefreshFailure? RefreshFailure => _refreshFailure;

    internal void RefreshFailed(string reason, DateTimeOffset at) =>
        _refreshFailure = new KeyRefreshFailure(reason, _refreshFailure?.Since ?? at, at);

    internal void RefreshSucceeded() => _refreshFailure = null;

    public const string Base64SecretPrefix = "base64:";

    /// <summary>A secret is UTF-8 text, or binary written as <c>base64:&lt;standard base64&gt;</c>; null when that base64 is invalid.</summary>
    public static byte[]? DecodeSecret(string secret)
    {
        if (!secret.StartsWith(Base64SecretPrefix, StringComparison.Ordinal))
        {
            return Encoding.UTF8.GetBytes(secret);
        }
        try
        {
            return Convert.FromBase64String(secret[Base64SecretPrefix.Length..]);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>Why the last JWKS refresh failed, since when it has been failing, and when it last failed.</summary>
internal sealed record KeyRefreshFailure(string Reason, DateTimeOffset Since, DateTimeOffset Last);

/// <summary>An immutable, validated JWKS snapshot.</summary>
internal sealed class KeySet(SigningKey[] keys, DateTimeOffset loadedAt)
{
    public SigningKey[] Keys { get; } = keys;
    public DateTimeOffset LoadedAt { get; } = loadedAt;
}
