using Authio.Shared.Sync;
using StackExchange.Redis;

namespace Authio.ControlPlane.EdgeSync;

/// <summary>
/// Keeps the exact revocation set in Redis for edges that confirm bloom-filter positives there, so an edge
/// holds only the filter and the few revocations not yet mirrored. <see cref="EdgeSyncPaths.RedisRevokedThrough"/> is
/// the contract: every live revocation with a sequence at or below it is in Redis. It is written after a complete seed
/// and advanced per batch only if it still holds what this instance last wrote (compare-and-set), so a Redis that lost
/// data (restart without persistence, an older dump) is detected and seeded again instead of being trusted.
/// </summary>
internal sealed partial class RedisRevocationMirror(EdgeChangeStore log, TimeProvider time, ILogger logger)
{
    private const int SeedChunk = 500;
    private static readonly RedisKey Through = EdgeSyncPaths.RedisRevokedThrough;
    private static readonly TimeSpan MarkerCheckInterval = TimeSpan.FromSeconds(1);

    // KEYS[1] = through marker, KEYS[2..] = revoked ids; ARGV[1] = what this instance last wrote, ARGV[2] = new marker,
    // then (value, expiry in unix ms) per id. Refuses (0) when the marker fell behind: Redis lost data, seed again.
    private const string MirrorScript = """
        local through = tonumber(redis.call('GET', KEYS[1]) or '-1')
        if through < tonumber(ARGV[1]) then return 0 end
        for i = 2, #KEYS do
          redis.call('SET', KEYS[i], ARGV[i * 2 - 1], 'PXAT', ARGV[i * 2])
        end
        if tonumber(ARGV[2]) > through then redis.call('SET', KEYS[1], ARGV[2]) end
        return 1
        """;

    private const string RaiseMarkerScript = """
        local through = tonumber(redis.call('GET', KEYS[1]) or '-1')
        if tonumber(ARGV[1]) > through then redis.call('SET', KEYS[1], ARGV[1]) end
        return 1
        """;

    private long _mirroredThrough = -1;
    private long _lastMarkerCheck;

    /// <summary>Forget what was mirrored (Redis failed or reconnected): the next round seeds the whole set again.</summary>
    public void Invalidate() => _mirroredThrough = -1;

    /// <summary>Seeds when needed: at start, after a refused batch, or when the marker vanished or went back.</summary>
    public async Task EnsureSeededAsync(IDatabase db, CancellationToken ct)
    {
        if (_mirroredThrough >= 0 && time.GetElapsedTime(_lastMarkerCheck) >= MarkerCheckInterval)
        {
            _lastMarkerCheck = time.GetTimestamp();
            var marker = await db.StringGetAsync(Through);
            if (!marker.HasValue || (long)marker < _mirroredThrough)
            {
                _mirroredThrough = -1;
            }
        }
        if (_mirroredThrough >= 0)
        {
            return;
        }
        var through = await log.LastSequenceAsync(ct);
        var live = await log.LiveRevocationsAsync(through, EdgeScope.Everyone, ct);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var chunk in live.Where(r => IsMirrored(r) && r.ExpiresAt > now).Chunk(SeedChunk))
        {
            await Task.WhenAll(chunk.Select(r => db.StringSetAsync(Key(r), ValueOf(r), TimeSpan.FromMilliseconds(r.ExpiresAt - now))));
        }
        await db.ScriptEvaluateAsync(RaiseMarkerScript, [Through], [through]);
        _mirroredThrough = through;
        _lastMarkerCheck = time.GetTimestamp();
        Log.Seeded(logger, live.Count, through);
    }

    /// <summary>Mirrors one batch of the change log (before it is appended to the stream edges read).</summary>
    public async Task MirrorAsync(IDatabase db, IReadOnlyList<EdgeChangeRow> rows)
    {
        if (_mirroredThrough < 0 || rows.Count == 0 || rows[^1].Seq <= _mirroredThrough)
        {
            return;
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var mirrored = rows.Where(r => r.Seq > _mirroredThrough && IsMirrored(r) && r.ExpiresAt > now).ToArray();
        var keys = new RedisKey[mirrored.Length + 1];
        var args = new RedisValue[mirrored.Length * 2 + 2];
        keys[0] = Through;
        args[0] = _mirroredThrough;
        args[1] = rows[^1].Seq;
        for (var i = 0; i < mirrored.Length; i++)
        {
            keys[i + 1] = Key(mirrored[i]);
            args[i * 2 + 2] = ValueOf(mirrored[i]);
            args[i * 2 + 3] = mirrored[i].ExpiresAt;
        }
        var accepted = (long)await db.ScriptEvaluateAsync(MirrorScript, keys, args);
        _mirroredThrough = accepted == 1 ? rows[^1].Seq : -1;
    }

    // Signing keys are enforced through the key set, not per request.
    private static bool IsMirrored(EdgeChangeRow row) =>
        row.Type == EdgeChangeStore.RevocationType && row.Kind is not null && row.Kind != RevocationKinds.SigningKey;

    // A user's not-before is per org, as at the edge and in introspection.
    private static RedisKey Key(EdgeChangeRow row) => row.Kind == RevocationKinds.UserNotBefore
        ? EdgeSyncPaths.RedisUserNotBeforeKey(row.OrgId, row.Value!)
        : EdgeSyncPaths.RedisRevokedKey(row.Kind!, row.Value!);

    // The wire form (seconds, rounded up) so the edge compares a token's iat exactly as it does from the feed.
    private static RedisValue ValueOf(EdgeChangeRow row) => row.Kind == RevocationKinds.UserNotBefore
        ? row.ToRevocation().NotBefore ?? long.MaxValue
        : 1;
}
