using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;

namespace Authio.ControlPlane.ApiKeys;

/// <summary>A stored API key. The secret is never here: only its digest, in <c>api_key_secrets</c>.</summary>
internal sealed class ApiKeyRow
{
    public string OrgId { get; set; } = "";
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    /// <summary>The display prefix (<c>sk_live_</c> + 4 characters) of the current secret.</summary>
    public string Prefix { get; set; } = "";
    /// <summary>Space-separated.</summary>
    public string Scopes { get; set; } = "";
    public string Environment { get; set; } = "";
    public string? ProjectId { get; set; }
    public string CreatedBy { get; set; } = "";
    public long CreatedAt { get; set; }
    public long? ExpiresAt { get; set; }
    public long? RotatedAt { get; set; }
    public long? LastUsedAt { get; set; }
    public long UseCount { get; set; }
    public long? RevokedAt { get; set; }
    public string? RevokedBy { get; set; }
    public long ExpiryAudited { get; set; }

    public string[] ScopeList => Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public bool IsExpired(long now) => ExpiresAt is { } e && e <= now;

    public string Status(long now) => RevokedAt is not null ? ApiKeyStatus.Revoked : IsExpired(now) ? ApiKeyStatus.Expired : ApiKeyStatus.Active;
}

/// <summary>Where a digest points: the org and key it belongs to, and until when this secret is accepted (null: no end).</summary>
internal sealed class ApiKeySecretRef
{
    public string OrgId { get; set; } = "";
    public string KeyId { get; set; } = "";
    public long? ValidUntil { get; set; }
}

internal static class ApiKeyStatus
{
    public const string Active = "active";
    public const string Expired = "expired";
    public const string Revoked = "revoked";
}

internal sealed record CreateApiKeyRequest(
    [property: Required, StringLength(100)] string? Name,
    [property: Required, MaxLength(ApiKeyAdminService.MaxScopesPerKey), ItemLength(Bounds.MaxScopeLength)] string[]? Scopes,
    [property: Required, StringLength(4)] string? Environment,
    [property: JsonPropertyName("expires_at")] DateTimeOffset? ExpiresAt = null,
    [property: JsonPropertyName("project_id"), StringLength(Bounds.MaxIdLength)] string? ProjectId = null);

internal sealed record RotateApiKeyRequest([property: JsonPropertyName("grace_period_seconds"), Range(0, (double)ApiKeyAdminService.MaxGraceSeconds)] long? GracePeriodSeconds = null);

internal sealed record CreateScopeRequest([property: Required, StringLength(Bounds.MaxScopeLength)] string? Name, [property: StringLength(200)] string? Description = null);

/// <summary>The one response that carries the secret: creation and rotation.</summary>
internal sealed record ApiKeyIssued(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("prefix")] string Prefix,
    [property: JsonPropertyName("scopes")] string[] Scopes,
    [property: JsonPropertyName("environment")] string Environment,
    [property: JsonPropertyName("project_id")] string? ProjectId,
    [property: JsonPropertyName("expires_at")] DateTimeOffset? ExpiresAt,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("previous_key_valid_until")] DateTimeOffset? PreviousKeyValidUntil);

/// <summary>A key as listed: never the secret.</summary>
internal sealed record ApiKeyView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("prefix")] string Prefix,
    [property: JsonPropertyName("scopes")] string[] Scopes,
    [property: JsonPropertyName("environment")] string Environment,
    [property: JsonPropertyName("project_id")] string? ProjectId,
    [property: JsonPropertyName("created_by")] string CreatedBy,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("expires_at")] DateTimeOffset? ExpiresAt,
    [property: JsonPropertyName("never_expires")] bool NeverExpires,
    [property: JsonPropertyName("rotated_at")] DateTimeOffset? RotatedAt,
    [property: JsonPropertyName("last_used_at")] DateTimeOffset? LastUsedAt,
    [property: JsonPropertyName("use_count")] long UseCount,
    [property: JsonPropertyName("revoked_at")] DateTimeOffset? RevokedAt,
    [property: JsonPropertyName("status")] string Status)
{
    public static ApiKeyView From(ApiKeyRow k, long now) => new(k.Id, k.Name, k.Prefix, k.ScopeList, k.Environment, k.ProjectId, k.CreatedBy,
        Time(k.CreatedAt), Time(k.ExpiresAt), k.ExpiresAt is null, Time(k.RotatedAt), Time(k.LastUsedAt), k.UseCount, Time(k.RevokedAt), k.Status(now));

    private static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static DateTimeOffset? Time(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;
}

internal sealed record ApiKeyScopeView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("built_in")] bool BuiltIn,
    [property: JsonPropertyName("grantable")] bool Grantable);
