using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Redis;

/// <summary>
/// The API-key L2 behind FusionCache: Microsoft's <see cref="RedisCache"/> on the shared <see cref="EdgeRedis"/>
/// connection. While Redis is known to be down (<see cref="EdgeRedis.IsDown"/>) every read is a miss and every write is skipped at once, so lookups go
/// straight to the control plane. Not disposable on purpose: disposing a <see cref="RedisCache"/> closes its
/// connection, and the connection belongs to <see cref="EdgeRedis"/>.
/// </summary>
internal sealed class RedisL2Cache : IDistributedCache
{
    /// <summary>Prefix of every L2 key in Redis.</summary>
    public const string InstanceName = "authio-edge:";

    /// <summary>How long the first call waits for the shared connection to exist.</summary>
    private static readonly TimeSpan FirstConnectWait = TimeSpan.FromSeconds(2);

    private readonly EdgeRedis _redis;
    private readonly RedisCache _cache;

    public RedisL2Cache(EdgeRedis redis)
    {
        _redis = redis;
        _cache = new RedisCache(new RedisCacheOptions { InstanceName = InstanceName, ConnectionMultiplexerFactory = ConnectAsync });
    }

    private async Task<IConnectionMultiplexer> ConnectAsync() =>
        _redis.Connection ?? await _redis.ConnectedAsync().WaitAsync(FirstConnectWait);

    public byte[]? Get(string key) => !_redis.IsDown ? Guard(() => _cache.Get(key)) : null;

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default) =>
        !_redis.IsDown ? await GuardAsync(() => _cache.GetAsync(key, token)) : null;

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        if (!_redis.IsDown)
        {
            Guard(() => { _cache.Set(key, value, options); return true; });
        }
    }

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        if (!_redis.IsDown)
        {
            await GuardAsync(async () => { await _cache.SetAsync(key, value, options, token); return true; });
        }
    }

    public void Refresh(string key)
    {
        if (!_redis.IsDown)
        {
            Guard(() => { _cache.Refresh(key); return true; });
        }
    }

    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        if (!_redis.IsDown)
        {
            await GuardAsync(async () => { await _cache.RefreshAsync(key, token); return true; });
        }
    }

    public void Remove(string key)
    {
        if (!_redis.IsDown)
        {
            Guard(() => { _cache.Remove(key); return true; });
        }
    }

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        if (!_redis.IsDown)
        {
            await GuardAsync(async () => { await _cache.RemoveAsync(key, token); return true; });
        }
    }

    /// <summary>Reports a failed call to the shared breaker; FusionCache still sees the exception (and carries on without the L2).</summary>
    private T Guard<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _redis.ReportFailure(ex);
            throw;
        }
    }

    private async Task<T> GuardAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _redis.ReportFailure(ex);
            throw;
        }
    }
}
