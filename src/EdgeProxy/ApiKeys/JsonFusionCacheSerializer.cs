using System.Text.Json;
using ZiggyCreatures.Caching.Fusion.Serialization;

namespace Authio.EdgeProxy.ApiKeys;

/// <summary>System.Text.Json for FusionCache's Redis L2 (the package's own STJ serializer is not obtainable here; this is all it does).</summary>
internal sealed class JsonFusionCacheSerializer : IFusionCacheSerializer
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public byte[] Serialize<T>(T? obj) => JsonSerializer.SerializeToUtf8Bytes(obj, Options);

    public T? Deserialize<T>(byte[] data) => JsonSerializer.Deserialize<T>(data, Options);

    public ValueTask<byte[]> SerializeAsync<T>(T? obj, CancellationToken token = default) => new(Serialize(obj));

    public ValueTask<T?> DeserializeAsync<T>(byte[] data, CancellationToken token = default) => new(Deserialize<T>(data));
}
