using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Authio.Shared.ApiKeys;

/// <summary>Control-plane endpoints an edge calls for API keys, authenticated with an <c>edge:sync</c> API key.</summary>
public static class EdgeApiKeyPaths
{
    /// <summary><c>POST</c> <see cref="ApiKeyLookupRequest"/> → 200 <see cref="ApiKeyRecord"/>, or 404 when no key has that digest.</summary>
    public const string Lookup = "/v1/edge/api-keys/lookup";

    /// <summary><c>POST</c> <see cref="ApiKeyUsageReport"/> → 204.</summary>
    public const string Usage = "/v1/edge/api-keys/usage";

    /// <summary>The scope an edge's own API key must carry.</summary>
    public const string EdgeSyncScope = "edge:sync";
}

/// <summary>Asks for the key whose SHA-256 digest (base64url, no padding) is <paramref name="Digest"/>; the secret never travels.</summary>
public sealed record ApiKeyLookupRequest([property: JsonPropertyName("digest"), Required, StringLength(43)] string Digest);

/// <summary>What an edge needs to authorize requests made with one API key.</summary>
/// <param name="Id">Stable key id, forwarded upstream as <c>X-Authio-Key-Id</c>.</param>
/// <param name="Environment"><c>live</c> or <c>test</c>.</param>
/// <param name="ExpiresAt">Null for keys without expiry.</param>
/// <param name="Revoked">True once revoked; a revoked key is still described so edges can cache the refusal.</param>
public sealed record ApiKeyRecord(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("org_id")] string OrgId,
    [property: JsonPropertyName("scopes")] string[] Scopes,
    [property: JsonPropertyName("environment")] string Environment,
    [property: JsonPropertyName("expires_at")] DateTimeOffset? ExpiresAt,
    [property: JsonPropertyName("revoked")] bool Revoked);

/// <summary>Per-key use counts an edge aggregated since its previous report.</summary>
public sealed record ApiKeyUsageReport([property: JsonPropertyName("keys"), Required, MaxLength(10_000)] IReadOnlyList<ApiKeyUsage> Keys);

public sealed record ApiKeyUsage(
    [property: JsonPropertyName("id"), Required, StringLength(100)] string Id,
    [property: JsonPropertyName("count"), Range(0, long.MaxValue)] long Count,
    [property: JsonPropertyName("last_used_at")] DateTimeOffset LastUsedAt);
