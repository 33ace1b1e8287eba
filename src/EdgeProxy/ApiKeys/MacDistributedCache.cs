using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;

namespace Authio.EdgeProxy.ApiKeys;

/// <summary>
/// The API-key L2 (Redis) with every value MAC'd: HMAC-SHA256 under <c>Edge:ApiKeys:CacheSigningKey</c> (shared by the
/// edges through configuration, never stored in Redis) over the cache key and the value, so a record written into Redis
/// by anyone else — or a genuine record copied under another key's digest — fails verification and reads as a miss:
/// FusionCache then asks the control plane. Stored form: version byte <c>1</c>, 32-byte tag, value.
/// </summary>
internal sealed class MacDistributedCache(IDistributedCache inner, byte[] key) : IDistributedCache
{
    private const byte Version = 1;
    private const int TagSize = 32;

    public byte[]? Get(string cacheKey) => Open(cacheKey, inner.Get(cacheKey));

    public async Task<byte[]?> GetAsync(string cacheKey, CancellationToken token = default) => Open(cacheKey, await inner.GetAsync(cacheKey, token));

    public void Set(string cacheKey, byte[] value, DistributedCacheEntryOptions options) => inner.Set(cacheKey, Seal(cacheKey, value), options);

    public Task SetAsync(string cacheKey, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        inner.SetAsync(cacheKey, Seal(cacheKey, value), options, token);

    public void Refresh(string cacheKey) => inner.Refresh(cacheKey);

    public Task RefreshAsync(string cacheKey, CancellationToken token = default) => inner.RefreshAsync(cacheKey, token);

    public void Remove(string cacheKey) => inner.Remove(cacheKey);

    public Task RemoveAsync(string cacheKey, CancellationToken token = default) => inner.RemoveAsync(cacheKey, token);

    private byte[] Seal(string cacheKey, byte[] value)
    {
        var sealedValue = new byte[1 + TagSize + value.Length];
        sealedValue[0] = Version;
        Tag(cacheKey, value, sealedValue.AsSpan(1, TagSize));
        value.CopyTo(sealedValue, 1 + TagSize);
        return sealedValue;
    }

    private byte[]? Open(string cacheKey, byte[]? stored)
    {
        if (stored is null)
        {
            return null;
        }
        Span<byte> expected = stackalloc byte[TagSize];
        if (stored.Length >= 1 + TagSize && stored[0] == Version)
        {
            var value = stored.AsSpan(1 + TagSize);
            Tag(cacheKey, value, expected);
            if (CryptographicOperations.FixedTimeEquals(expected, stored.AsSpan(1, TagSize)))
            {
                return value.ToArray();
            }
        }
        return null;
    }

    // The key's length goes first, so (key, value) pairs cannot be re-split into a different key and value.
    private void Tag(string cacheKey, ReadOnlySpan<byte> value, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        var keyBytes = Encoding.UTF8.GetBytes(cacheKey);
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, keyBytes.Length);
        hmac.AppendData(length);
        hmac.AppendData(keyBytes);
        hmac.AppendData(value);
        hmac.GetHashAndReset(destination);
    }
}
