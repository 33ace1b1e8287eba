using System.Text.Json;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.ApiKeys;
using Authio.Shared.Sync;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Authio.EdgeProxy.Tests.Sync;

/// <summary>The control plane's edge-sync feed: an ordered change log the test appends to, served with long polling.</summary>
public sealed class FakeFeed : LoopbackServer
{
    private readonly Lock _lock = new();
    private readonly List<EdgeChange> _log = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _snapshots;

    public FakeFeed(TestKey key) => Key = key;

    public const string Issuer = "http://control-plane.feed";
    public const string Audience = "authio-api";
    public TestKey Key { get; private set; }
    public string EdgeKey { get; } = ApiKeyFormat.Generate(ApiKeyEnvironment.Live);
    public volatile bool Down;
    /// <summary>Only the HTTP changes endpoint fails (snapshot still served): proves changes arrived through Redis.</summary>
    public volatile bool ChangesDown;
    /// <summary>When set, every change is also appended to the Redis stream and announced, as the control plane does.</summary>
    public StackExchange.Redis.IDatabase? Redis;
    /// <summary>With <see cref="Redis"/>: also keep the exact revocation set and its marker there, as the control plane does.</summary>
    public bool MirrorRevocations;
    public long OldestRetained;
    /// <summary>Long polls (wait &gt; 0) answer nothing new until their deadline: a feed that is slow to deliver.</summary>
    public volatile bool HoldLongPolls;
    private int _immediateReads;

    /// <summary>Change reads that asked not to wait (wait=0).</summary>
    public int ImmediateReads => Volatile.Read(ref _immediateReads);
    public int Snapshots => Volatile.Read(ref _snapshots);

    public long Append(string type, RevocationRecord? revocation = null, JsonElement? jwks = null, EdgeOrgSettings? org = null, EdgeOrgKeys? orgKeys = null)
    {
        lock (_lock)
        {
            var seq = _log.Count + 1;
            var change = new EdgeChange(seq, type, revocation is null ? null : revocation with { Sequence = seq }, jwks, org, orgKeys);
            _log.Add(change);
            if (Redis is { } redis)
            {
                if (MirrorRevocations)
                {
                    if (change.Revocation is { } r)
                    {
                        redis.StringSet(EdgeSyncPaths.RedisRevokedKey(r.Kind, r.Value), r.NotBefore ?? 1,
                            DateTimeOffset.FromUnixTimeSeconds(r.ExpiresAt) - DateTimeOffset.UtcNow);
                    }
                    redis.StringSet(EdgeSyncPaths.RedisRevokedThrough, seq);
                }
                redis.StreamAdd(EdgeSyncPaths.RedisStream, "change", JsonSerializer.Serialize(change), $"{seq}-0");
                redis.Publish(StackExchange.Redis.RedisChannel.Literal(EdgeSyncPaths.RedisNotifyChannel), seq);
            }
            _changed.TrySetResult();
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            return seq;
        }
    }

    public long Revoke(string kind, string value, long expiresAt, long? notBefore = null) =>
        Append("revocation", new RevocationRecord(0, kind, value, notBefore, expiresAt));

    /// <summary>An org's rate limit set (or with null, cleared) at the control plane; the text is sent as is, valid or not.</summary>
    public long SetOrgRateLimit(string org, string? limit) => Append(EdgeChangeTypes.OrgRateLimit, org: new EdgeOrgSettings(org, limit));

    /// <summary>An org's published keys changed at the control plane: its JWK set, sent as is (valid or not).</summary>
    public long SetOrgKeys(string? org, string jwksJson) =>
        Append(EdgeChangeTypes.OrgKeys, orgKeys: new EdgeOrgKeys(org, JsonDocument.Parse(jwksJson).RootElement.Clone()));

    public void RotateTo(TestKey key)
    {
        Key = key;
        Append("jwks", jwks: JsonDocument.Parse(TestKey.Jwks(key)).RootElement);
    }

    protected override void Map(WebApplication app)
    {
        app.MapGet(EdgeSyncPaths.Snapshot, (HttpContext context) =>
        {
            if (Down || context.Request.Headers.Authorization.ToString() != "Bearer " + EdgeKey)
            {
                return Results.StatusCode(Down ? 503 : 401);
            }
            Interlocked.Increment(ref _snapshots);
            lock (_lock)
            {
                var revocations = _log.Where(c => c.Revocation is not null).Select(c => c.Revocation!).ToArray();
                // Each org's latest limit, as the control plane's table holds it.
                var orgSettings = _log.Where(c => c.OrgSettings is not null).GroupBy(c => c.OrgSettings!.OrgId)
                    .Select(g => g.Last().OrgSettings!).Where(o => o.RateLimit is not null).ToArray();
                var issuer = new EdgeIssuerInfo(Issuer, [Audience], "http://control-plane.feed/.well-known/jwks.json", JsonDocument.Parse(TestKey.Jwks(Key)).RootElement);
                return Results.Json(new EdgeSnapshot(_log.Count, issuer, revocations, DateTimeOffset.UtcNow, orgSettings, MirrorRevocations && Redis is not null));
            }
        });
        app.MapGet(EdgeSyncPaths.Changes, async (HttpContext context, long after, int wait) =>
        {
            var deadline = DateTime.UtcNow.AddSeconds(wait);
            if (wait == 0)
            {
                Interlocked.Increment(ref _immediateReads);
            }
            while (true)
            {
                if (Down || ChangesDown)
                {
                    return Results.StatusCode(503);
                }
                Task changed;
                lock (_lock)
                {
                    if (after < OldestRetained)
                    {
                        return Results.Json(new EdgeChangeBatch(after, [], true));
                    }
                    var pending = HoldLongPolls && wait > 0 ? [] : _log.Where(c => c.Sequence > after).ToArray();
                    if (pending.Length > 0 || DateTime.UtcNow >= deadline)
                    {
                        return Results.Json(new EdgeChangeBatch(pending.Length > 0 ? pending[^1].Sequence : after, pending, false));
                    }
                    changed = _changed.Task;
                }
                await Task.WhenAny(changed, Task.Delay(deadline - DateTime.UtcNow, context.RequestAborted));
            }
        });
    }
}
