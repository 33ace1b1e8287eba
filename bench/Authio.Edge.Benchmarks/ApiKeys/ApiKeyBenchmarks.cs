using System.Net;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Revocation;
using Authio.Shared.ApiKeys;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using ZiggyCreatures.Caching.Fusion;

namespace Authio.Edge.Benchmarks.ApiKeys;

/// <summary>
/// API keys at the edge: a cached key (length, prefix, environment, SHA-256, hot-cache lookup, usage count: a key the hot
/// cache holds passed its checksum when it was looked up, so a hit skips it) and a mistyped key, refused by its checksum
/// after the hot cache missed, without any lookup (and the checksum alone). Targets: ≤ 1 μs / 0 B and ≤ 100 ns.
/// The key's SHA-256 on the stack (OpenSSL's block function where it loads, and the managed fallback) against the
/// platform's one-shot call: why <see cref="ApiKeyDigest"/> exists.
/// </summary>
[MemoryDiagnoser]
public class ApiKeyBenchmarks
{
    private ApiKeyAuthenticator _authenticator = null!;
    private string _key = null!;
    private string _typo = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = new EdgeOptions();
        var time = TimeProvider.System;
        var hot = new ApiKeyHotCache(1024);
        _authenticator = new ApiKeyAuthenticator(options, hot, new FusionCache(new FusionCacheOptions()), null, new ApiKeyUsageCounters(),
            new NoRevocations(), time, NullLogger<ApiKeyAuthenticator>.Instance);
        _key = ApiKeyFormat.Generate(ApiKeyEnvironment.Live);
        _typo = _key[..20] + (_key[20] == 'a' ? 'b' : 'a') + _key[21..];
        var identity = new EdgeIdentity
        {
            Subject = null, KeyId = "key_1", Org = "org_1", Scopes = ["read:applications"], ScopesHeader = "read:applications",
            AuthType = "api_key", ExpiresAt = long.MaxValue,
        };
        hot.Set(new ApiKeyHotCache.Entry(ApiKeyFormat.ComputeDigest(_key), identity, null, long.MaxValue, long.MaxValue, new ApiKeyUsageCounter("key_1")));
        if (!_authenticator.TryAuthenticateCached(_key, IPAddress.Loopback, out var check, out _) || check is null)
        {
            throw new InvalidOperationException("the key is not served from the hot cache");
        }
        if (!_authenticator.TryAuthenticateCached(_typo, IPAddress.Loopback, out _, out var refusal) || !ReferenceEquals(refusal, ApiKeyAuthenticator.Invalid))
        {
            throw new InvalidOperationException("the mistyped key was not refused without a lookup");
        }
    }

    [Benchmark(Description = "API key: cached (SHA-256 + hot lookup)")]
    public bool CachedKey() => _authenticator.TryAuthenticateCached(_key, IPAddress.Loopback, out _, out _);

    [Benchmark(Description = "API key: mistyped key refused (SHA-256, hot miss, checksum)")]
    public bool MistypedKey() => _authenticator.TryAuthenticateCached(_typo, IPAddress.Loopback, out _, out _);

    [Benchmark(Description = "API key: the checksum alone (ApiKeyFormat.IsWellFormed, mistyped key)")]
    public bool ChecksumReject() => ApiKeyFormat.IsWellFormed(_typo, out _);

    [Benchmark(Description = "SHA-256 of the key: ApiKeyDigest.ComputeManaged (no libcrypto)")]
    public byte ManagedDigest() => DigestOfKey(ApiKeyDigest.ComputeManaged);

    [Benchmark(Description = "SHA-256 of the key: ApiKeyDigest (on the stack)")]
    public byte StackDigest() => DigestOfKey(ApiKeyDigest.Compute);

    [Benchmark(Description = "SHA-256 of the key: platform SHA256.HashData")]
    public byte PlatformDigest() => DigestOfKey(static (input, digest) => System.Security.Cryptography.SHA256.HashData(input, digest));

    private delegate void DigestFunction(ReadOnlySpan<byte> input, Span<byte> digest);

    /// <summary>The key's ASCII bytes on the stack, then its SHA-256 by <paramref name="compute"/>: what the request path does.</summary>
    private byte DigestOfKey(DigestFunction compute)
    {
        Span<byte> ascii = stackalloc byte[ApiKeyFormat.MaxLength];
        var length = System.Text.Encoding.ASCII.GetBytes(_key, ascii);
        Span<byte> digest = stackalloc byte[ApiKeyFormat.DigestLength];
        compute(ascii[..length], digest);
        return digest[0];
    }
}
