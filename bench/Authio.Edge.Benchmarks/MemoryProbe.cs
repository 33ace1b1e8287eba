using System.Runtime;
using System.Text;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tokens;
using Authio.Shared.Tokens;

namespace Authio.Edge.Benchmarks;

/// <summary>
/// `memory` mode: bytes retained per cached credential and per table entry, measured as the difference of
/// <see cref="GC.GetTotalMemory(bool)"/> (full, compacting collection) around building N of them, everything the
/// measurement itself needs allocated beforehand. The per-piece rows isolate each part of a cached token; strings
/// and arrays are also given by their size formula (64-bit: string 22 + 2·length, byte[] 24 + length, rounded to 8).
/// </summary>
internal static class MemoryProbe
{
    public static void Run(string[] args)
    {
        var n = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        Console.WriteLine($"runtime: {(GCSettings.IsServerGC ? "server" : "workstation")} GC, latency {GCSettings.LatencyMode}, " +
            $"{Environment.ProcessorCount} cpus, total available {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1048576} MiB");
        var f = TokenFixture.Shared;
        Console.WriteLine($"minting and validating {n:N0} distinct ES256 tokens…");
        var tokens = new byte[n][];
        var payloads = new byte[n][];
        var claims = new JwtClaims[n];
        for (var i = 0; i < n; i++)
        {
            tokens[i] = Encoding.ASCII.GetBytes(f.Mint("ES256", jti: Guid.NewGuid().ToString("N")));
            payloads[i] = new byte[JwtValidator.PayloadBufferSize(tokens[i].Length)];
            if (!f.Validator.TryValidate(tokens[i], payloads[i], out claims[i], out var error))
            {
                throw new InvalidOperationException("token refused: " + error);
            }
        }
        var sample = EdgeIdentity.FromJwt(claims[0], payloads[0].AsSpan(0, claims[0].PayloadLength), keepPayload: false);
        Console.WriteLine($"token {tokens[0].Length} B, payload {claims[0].PayloadLength} B, sub {sample.Subject!.Length} chars, sid {sample.SessionId!.Length}, jti {sample.TokenId!.Length}, scope header {sample.ScopesHeader.Length}");
        Console.WriteLine();
        Console.WriteLine($"{"what",-66} {"B/entry",9}");

        Row("token bytes as a byte[] per entry (previous layout)", n, i => _keep[i] = tokens[i].ToArray());
        Console.WriteLine($"{"token bytes in the slab (current: one fixed region per slot, after the shared prefix)",-66} {TokenCache.SlotBytes,9}");
        Row("identity, current layout (sub/sid/jti strings own; scopes, org shared)", n,
            i => _keep[i] = EdgeIdentity.FromJwt(claims[i], payloads[i].AsSpan(0, claims[i].PayloadLength), keepPayload: false));
        Row("identity, previous layout (own payload copy, scopes array, header)", n, i =>
        {
            var payload = payloads[i].AsSpan(0, claims[i].PayloadLength);
            var identity = EdgeIdentity.FromJwt(claims[i], payload);
            var scopes = claims[i].Scope.GetString(payload)!.Split(' ');
            _keep[i] = (identity, scopes, new Authio.Shared.Scopes.GrantedScopes(scopes), IdentityHeaderValue.Encode(string.Join(' ', scopes)));
        });
        Row("  of which: own payload copy", n, i => _keep[i] = payloads[i].AsSpan(0, claims[i].PayloadLength).ToArray());
        Row("  of which: scopes array + compiled + header (per token, unshared)", n, i =>
        {
            var scopes = claims[i].Scope.GetString(payloads[i].AsSpan(0, claims[i].PayloadLength))!.Split(' ');
            _keep[i] = (scopes, new Authio.Shared.Scopes.GrantedScopes(scopes), IdentityHeaderValue.Encode(string.Join(' ', scopes)));
        });
        Row("  sub string", n, i => _keep[i] = claims[i].Subject.GetString(payloads[i])!);
        Row("  sid string", n, i => _keep[i] = claims[i].SessionId.GetString(payloads[i])!);
        Row("  jti string", n, i => _keep[i] = claims[i].TokenId.GetString(payloads[i])!);
        Row("  org string (previous: per token; now shared)", n, i => _keep[i] = claims[i].Org.GetString(payloads[i])!);
        Row("cache entry object (hash, length, head ref, identity ref, referenced bit)", n, i => _keep[i] = new TokenCache.Entry(0, 527, [], sample));
        Console.WriteLine($"{"cache slot (one reference per slot, fixed at start)",-66} {8,9}");

        TokenCache? cache = null;
        Row($"whole cached token through TokenCache (slots + slab + entries), current layout", n,
            i => cache!.Add(tokens[i], EdgeIdentity.FromJwt(claims[i], payloads[i].AsSpan(0, claims[i].PayloadLength), keepPayload: false)),
            once: () => cache = new TokenCache(n));
        var held = cache!.Count();
        Console.WriteLine($"   per entry held: {_lastTotal / (double)held,9:F1} B ({held:N0} of {cache.Capacity:N0} held: 2-way sets, so some tokens"
            + $" evicted each other; slots and the whole slab are counted, a slab page is resident only once written); {cache.PrefixCount} shared prefixes");
        GC.KeepAlive(cache);
        cache = null;
        Array.Clear(tokens);
        Array.Clear(payloads);
        Console.WriteLine();

        // API keys: the hot-cache entry (digest, identity, usage counter) as ApiKeyAuthenticator builds it.
        var digests = Enumerable.Range(0, n).Select(_ => System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).ToArray();
        var hot = new ApiKeyHotCache(n * 2);
        var keyIds = Enumerable.Range(0, n).Select(i => $"key_{i:D20}").ToArray();
        Row("API key: hot-cache entry + identity (key id own; scopes, org shared)", n, i =>
        {
            var scopes = IdentityInterning.Scopes(["read:applications", "write:applications"]);
            hot.Set(new ApiKeyHotCache.Entry(digests[i].ToArray(), new EdgeIdentity
            {
                Subject = null, KeyId = keyIds[i], Org = IdentityInterning.String("org_acme"), Scopes = scopes.Scopes, Granted = scopes.Granted,
                ScopesHeader = scopes.Header, AuthType = IdentityHeaders.AuthTypeApiKey, ExpiresAt = long.MaxValue,
            }, null, long.MaxValue, long.MaxValue, null));
        });
        Console.WriteLine($"{"  + FusionCache L1 entry (MemoryCache, same record) — not measured here",-66} {"",9}");
        GC.KeepAlive(hot);
        hot = null;

        // Revocations: 1 000 000 revoked jtis, exact set in memory (no Redis) and bloom only (exact set in Redis).
        foreach (var count in new[] { 100_000, 1_000_000 })
        {
            var ids = Enumerable.Range(0, count).Select(i => new RevokedId(RevocationKind.TokenId, Guid.NewGuid().ToString("N"), long.MaxValue, Sequence: i + 1)).ToArray();
            RevocationSet? set = null;
            Row($"revocation id, exact set in memory, {count:N0} ids", count, _ => { }, 0,
                () => set = RevocationSet.Empty(count, 0.001).With(ids, count, 0, 0.001));
            GC.KeepAlive(set);
            set = null;
            Row($"revocation id, bloom filter only (exact set in Redis), {count:N0} ids", count, _ => { }, 0,
                () => set = RevocationSet.Empty(count, 0.001, remoteExact: true).With(ids, count, 0, 0.001, mirroredThrough: count));
            GC.KeepAlive(set);
            set = null;
        }

        // Rate limits: a full table of distinct subject keys (the key string counted: a bucket can outlive its token).
        if (!RateLimitPolicy.TryParse("probe", "100/1s", out var limit, out var parseError))
        {
            throw new InvalidOperationException(parseError);
        }
        var capacity = 262_144;
        BucketTable? table = null;
        Row($"rate-limit table, empty, {capacity:N0} slots (per slot)", capacity, _ => { }, 0, () => table = new BucketTable(capacity));
        var subjects = Enumerable.Range(0, capacity).Select(i => $"user_{i:D12}").ToArray();
        Row("rate-limit key: bucket (+ 8 B slot, 4 B hash hint above)", capacity, i => table!.Get(limit, BucketKeyKind.Subject, subjects[i], 0, 0));
        Console.WriteLine($"   (table holds {table!.Count():N0} buckets; more distinct keys recycle slots: memory stays at capacity)");
        GC.KeepAlive(table);
    }

    private static object[] _keep = [];
    private static long _lastTotal;

    private static void Row(string what, int count, Action<int> build, long subtract = 0, Action? once = null)
    {
        _keep = new object[count]; // what a row builds is kept here (previous rows' objects are released)
        var before = Retained();
        once?.Invoke();
        for (var i = 0; i < count; i++)
        {
            build(i);
        }
        var after = Retained();
        _lastTotal = after - before - subtract;
        Console.WriteLine($"{what,-66} {_lastTotal / (double)count,9:F1}");
    }

    private static long Retained()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }
}
