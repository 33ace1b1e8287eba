using System.Text.Json;
using System.Text.Json.Serialization;

namespace Authio.Shared.Sync;

/// <summary>
/// The edge-sync feed: one ordered change log in the control plane, read by every edge. Authenticated with an
/// <c>edge:sync</c> API key, like the API-key endpoints.
/// </summary>
public static class EdgeSyncPaths
{
    /// <summary><c>GET</c> → <see cref="EdgeSnapshot"/>: everything an edge needs, as of one sequence number.</summary>
    public const string Snapshot = "/v1/edge/snapshot";

    /// <summary>
    /// <c>GET ?after=N&amp;wait=S</c> → <see cref="EdgeChangeBatch"/>: changes with sequence &gt; N in order, waiting up
    /// to S seconds (long poll, default 25, max 30) when there are none yet.
    /// </summary>
    public const string Changes = "/v1/edge/changes";

    /// <summary>
    /// Redis stream the control plane appends every change to: entry id <c>{seq}-0</c>, field <c>change</c> = JSON,
    /// <c>sig</c> = the feed key's signature of exactly those UTF-8 bytes, <c>kid</c> = that key (<see cref="EdgeFeedKey"/>).
    /// </summary>
    public const string RedisStream = "authio:edge:changes";

    /// <summary>Stream entry fields (see <see cref="RedisStream"/>).</summary>
    public const string RedisChangeField = "change";
    public const string RedisSignatureField = "sig";
    public const string RedisKeyIdField = "kid";

    /// <summary>Redis pub/sub channel announcing a new sequence number, so edges read the stream at once.</summary>
    public const string RedisNotifyChannel = "authio:edge:notify";

    /// <summary>
    /// Prefix of the exact revocation set the control plane keeps in Redis: <c>{prefix}{kind}:{value}</c> → <c>1</c>, or
    /// the user's not-before (unix seconds) for <see cref="RevocationKinds.UserNotBefore"/>, whose key also names the org
    /// (<see cref="RedisUserNotBeforeKey"/>); each expires with what it revokes. The hash tag <c>{revoked}</c> puts the
    /// set and <see cref="RedisRevokedThrough"/> in one Redis Cluster slot: the control plane writes ids and the marker in
    /// one script, and an edge reads the marker with the ids it asks for in one <c>MGET</c>.
    /// </summary>
    public const string RedisRevokedPrefix = "authio:{revoked}:";

    /// <summary>
    /// The change-log sequence through which every live revocation is in the Redis set. Written only after a complete
    /// seed and after each mirrored batch; absent (Redis lost its data) means the set cannot be trusted.
    /// </summary>
    public const string RedisRevokedThrough = "authio:{revoked}:through";

    public static string RedisRevokedKey(string kind, string value) => RedisRevokedPrefix + kind + ":" + value;

    /// <summary>
    /// A user's not-before is per org (<c>authio:{revoked}:user_not_before:&lt;org&gt;:&lt;user&gt;</c>): logging out everywhere in one
    /// org leaves the same user's sessions in another org alone. Without an org (older control plane): every org.
    /// </summary>
    public static string RedisUserNotBeforeKey(string? orgId, string userId) => orgId is null
        ? RedisRevokedKey(RevocationKinds.UserNotBefore, userId)
        : RedisRevokedPrefix + RevocationKinds.UserNotBefore + ":" + orgId + ":" + userId;
}

/// <summary>Revocation kinds, as stored in the change log.</summary>
public static class RevocationKinds
{
    public const string TokenId = "jti";
    public const string SessionId = "sid";
    public const string UserNotBefore = "user_not_before";
    public const string ApiKey = "api_key";
    public const string SigningKey = "signing_key";
}

/// <summary>The <see cref="EdgeChange.Type"/> values. An edge skips types it does not know (and still advances past them).</summary>
public static class EdgeChangeTypes
{
    public const string Revocation = "revocation";
    public const string Jwks = "jwks";
    /// <summary>An org's rate limit was set or cleared: <see cref="EdgeChange.OrgSettings"/>. Sent to every edge (not secret).</summary>
    public const string OrgRateLimit = "org_rate_limit";
    /// <summary>
    /// One org's published signing keys changed: <see cref="EdgeChange.OrgKeys"/> replaces that org's keys (and only
    /// them) in the edge's key set. Replaces the whole-document <see cref="Jwks"/> change, which edges still accept.
    /// </summary>
    public const string OrgKeys = "org_keys";
    /// <summary>
    /// An API key's record changed other than by revocation (a rotation: its earlier secrets now end at their grace):
    /// <see cref="EdgeChange.KeyId"/>. Edges drop what they cached for the key and look it up again when next presented.
    /// </summary>
    public const string ApiKeyChanged = "api_key_changed";
}

/// <summary>
/// The keys of one org as published now (a JWK set whose keys each carry <c>"org"</c> = <see cref="OrgId"/>; empty
/// when the org has none). <see cref="OrgId"/> null: the keys without an org (from before per-org key rings).
/// </summary>
public sealed record EdgeOrgKeys(
    [property: JsonPropertyName("org_id")] string? OrgId,
    [property: JsonPropertyName("jwks")] JsonElement Jwks);

/// <summary>One revoked credential. <see cref="ExpiresAt"/> (unix seconds) is when it stops mattering.</summary>
/// <param name="OrgId">
/// The org the revocation belongs to; null for global kinds (a signing key). A <see cref="RevocationKinds.UserNotBefore"/>
/// applies only to the user's tokens of this org; one without an org (older control plane) applies to every org.
/// </param>
public sealed record RevocationRecord(
    [property: JsonPropertyName("seq")] long Sequence,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("value")] string Value,
    [property: JsonPropertyName("not_before")] long? NotBefore,
    [property: JsonPropertyName("expires_at")] long ExpiresAt,
    [property: JsonPropertyName("org_id")] string? OrgId = null);

/// <summary>The issuer an edge trusts when it is configured with a control plane and no <c>Edge:Issuers</c> entry for it.</summary>
public sealed record EdgeIssuerInfo(
    [property: JsonPropertyName("issuer")] string Issuer,
    [property: JsonPropertyName("audiences")] string[] Audiences,
    [property: JsonPropertyName("jwks_uri")] string JwksUri,
    [property: JsonPropertyName("jwks")] JsonElement Jwks);

/// <summary>
/// An org's settings the edge enforces. <see cref="RateLimit"/>: the org's limit in the <c>Authio.RateLimit</c> grammar
/// (<see cref="RateLimits.RateLimitSpec"/>), applied to routes without their own limit; null when the org has none.
/// </summary>
public sealed record EdgeOrgSettings(
    [property: JsonPropertyName("org_id")] string OrgId,
    [property: JsonPropertyName("rate_limit")] string? RateLimit);

/// <summary>
/// The public half of the control plane's feed-signing key (ECDSA P-256, <see cref="Algorithm"/> <c>ES256</c>):
/// <see cref="PublicKey"/> is the DER SubjectPublicKeyInfo, base64. Every Redis stream entry is signed with it
/// (<see cref="EdgeSyncPaths.RedisSignatureField"/>); edges learn it only from the authenticated snapshot, so a writer
/// with access to Redis alone cannot make an edge apply a change.
/// </summary>
public sealed record EdgeFeedKey(
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("alg")] string Algorithm,
    [property: JsonPropertyName("spki")] string PublicKey);

/// <param name="OrgSettings">
/// Every org that has edge-relevant settings (all orgs, whatever the edge's org scope). Null from a control plane that
/// predates it: the edge then leaves its org settings as they are.
/// </param>
/// <param name="RedisRevocations">
/// True when the control plane mirrors the exact revocation set into Redis (<see cref="EdgeSyncPaths.RedisRevokedPrefix"/>):
/// an edge sharing that Redis may then confirm bloom-filter positives there instead of holding every revoked id in memory.
/// </param>
/// <param name="FeedKey">
/// The key Redis stream entries are signed with; null from a control plane that predates it (the edge then takes only
/// revocations from Redis and everything else from the HTTP feed).
/// </param>
public sealed record EdgeSnapshot(
    [property: JsonPropertyName("sequence")] long Sequence,
    [property: JsonPropertyName("issuer")] EdgeIssuerInfo Issuer,
    [property: JsonPropertyName("revocations")] RevocationRecord[] Revocations,
    [property: JsonPropertyName("generated_at")] DateTimeOffset GeneratedAt,
    [property: JsonPropertyName("org_settings")] EdgeOrgSettings[]? OrgSettings = null,
    [property: JsonPropertyName("redis_revocations")] bool RedisRevocations = false,
    [property: JsonPropertyName("feed_key")] EdgeFeedKey? FeedKey = null);

/// <summary>
/// One entry of the change log (<see cref="Type"/>, see <see cref="EdgeChangeTypes"/>): a revocation, a new JWKS document,
/// an org's new settings, an org's new published keys, or an API key's changed record (<see cref="KeyId"/>).
/// </summary>
public sealed record EdgeChange(
    [property: JsonPropertyName("seq")] long Sequence,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("revocation")] RevocationRecord? Revocation,
    [property: JsonPropertyName("jwks")] JsonElement? Jwks,
    [property: JsonPropertyName("org_settings")] EdgeOrgSettings? OrgSettings = null,
    [property: JsonPropertyName("org_keys")] EdgeOrgKeys? OrgKeys = null,
    [property: JsonPropertyName("key_id")] string? KeyId = null);

/// <param name="Sequence">The last sequence included (or, with no changes, the <c>after</c> asked for).</param>
/// <param name="Reset">True when <c>after</c> is older than the retained log: the edge must fetch a fresh snapshot.</param>
public sealed record EdgeChangeBatch(
    [property: JsonPropertyName("sequence")] long Sequence,
    [property: JsonPropertyName("changes")] EdgeChange[] Changes,
    [property: JsonPropertyName("reset")] bool Reset);
