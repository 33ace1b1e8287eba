using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Keys;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Authio.Edge.Benchmarks.Keys;

/// <summary>
/// The control plane's key set at the design point: 10 000 orgs × 3 ES256 keys (30 000 keys, each naming its org).
/// What a snapshot costs (parse and vet every JWK, import every public key, build the kid index), what one org's
/// <c>org_keys</c> change costs on top of 30 000 held keys (parse 3 keys, merge, re-index, publish), and a kid lookup
/// (the index vs a linear scan, which the index replaced).
/// </summary>
[MemoryDiagnoser]
public class OrgKeySetBenchmarks
{
    private const int Orgs = 10_000;
    private const int KeysPerOrg = 3;

    private JsonElement _snapshot;
    private JsonElement _snapshotChanged;
    private JsonElement[] _orgChange = null!;
    private int _flip;
    private OrgKeySets _loaded = null!;
    private IssuerRegistry _registry = null!;
    private byte[] _kid = null!;

    private static TrustedIssuer NewIssuer() =>
        new(new IssuerOptions { Issuer = "http://cp.bench", Audiences = ["authio-api"], JwksUri = "http://cp.bench/.well-known/jwks.json" });

    private static object Jwk(string kid, string org)
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = ec.ExportParameters(false).Q;
        return new { kty = "EC", crv = "P-256", x = Base64Url(q.X!), y = Base64Url(q.Y!), kid, alg = "ES256", use = "sig", org };
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GlobalSetup]
    public void Setup()
    {
        var keys = new List<object>(Orgs * KeysPerOrg);
        for (var o = 0; o < Orgs; o++)
        {
            for (var k = 0; k < KeysPerOrg; k++)
            {
                keys.Add(Jwk($"k_{o:x6}{k}", $"org_{o:x6}"));
            }
        }
        var json = JsonSerializer.Serialize(new { keys });
        _snapshot = JsonDocument.Parse(json).RootElement.Clone();
        keys[(Orgs / 2) * KeysPerOrg] = Jwk("k_repeat", $"org_{Orgs / 2:x6}");
        _snapshotChanged = JsonDocument.Parse(JsonSerializer.Serialize(new { keys })).RootElement.Clone();
        Console.WriteLine($"// snapshot JWKS: {keys.Count} keys, {Encoding.UTF8.GetByteCount(json) / 1024.0 / 1024.0:F2} MiB of JSON");
        // One org's ring moving on: two alternating versions of org 5000's keys (one key replaced).
        _orgChange =
        [
            JsonSerializer.SerializeToElement(new { keys = new[] { Jwk("k_a", "org_001388"), Jwk("k_b", "org_001388"), Jwk("k_c", "org_001388") } }),
            JsonSerializer.SerializeToElement(new { keys = new[] { Jwk("k_b2", "org_001388"), Jwk("k_c2", "org_001388"), Jwk("k_d2", "org_001388") } }),
        ];

        var before = GC.GetTotalMemory(forceFullCollection: true);
        var issuer = NewIssuer();
        _registry = new IssuerRegistry([issuer]);
        _loaded = new OrgKeySets(_registry, issuer, TimeProvider.System, NullLogger.Instance);
        _loaded.ApplyAll(_snapshot);
        _loaded.PublishIfChanged();
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"// key set held: {_registry.Index.Asymmetric.Length} keys, {(after - before) / 1024.0 / 1024.0:F1} MiB (keys, ECDsa handles, kid index)");
        if (_loaded.Count != Orgs * KeysPerOrg || _registry.Health.RefusedCount != 0)
        {
            throw new InvalidOperationException("the benchmark key set was not accepted");
        }
        _kid = Encoding.UTF8.GetBytes($"k_{Orgs / 2:x6}1");
    }

    [Benchmark(Description = "snapshot: vet + import 30 000 keys, index, publish")]
    public int SnapshotApply()
    {
        var issuer = NewIssuer();
        var registry = new IssuerRegistry([issuer]);
        var sets = new OrgKeySets(registry, issuer, TimeProvider.System, NullLogger.Instance);
        sets.ApplyAll(_snapshot);
        sets.PublishIfChanged();
        return registry.Index.Asymmetric.Length;
    }

    [Benchmark(Description = "repeat snapshot (reset, reconnect): 30 000 keys, one org changed, publish")]
    public int SnapshotRepeat()
    {
        // Every org's part unchanged but one: its held keys are kept without being vetted and imported again.
        _loaded.ApplyAll(_flip == 0 ? _snapshotChanged : _snapshot);
        _flip ^= 1;
        _loaded.PublishIfChanged();
        return _loaded.Count;
    }

    [Benchmark(Description = "one org_keys change (3 keys) on 30 000 held keys, publish")]
    public int OneOrgChange()
    {
        _loaded.ApplyOrg("org_001388", _orgChange[_flip ^= 1]);
        _loaded.PublishIfChanged();
        return _loaded.Count;
    }

    [Benchmark(Description = "kid lookup in the index (30 000 keys)")]
    public bool KidLookup()
    {
        foreach (var key in _registry.Index.Candidates(_kid))
        {
            if (key.KidUtf8.AsSpan().SequenceEqual(_kid))
            {
                return !key.Retired;
            }
        }
        return false;
    }

    [Benchmark(Baseline = true, Description = "kid lookup by linear scan (before the index)")]
    public bool KidLookupLinear()
    {
        foreach (var key in _registry.Index.Asymmetric)
        {
            if (key.KidUtf8.AsSpan().SequenceEqual(_kid))
            {
                return !key.Retired;
            }
        }
        return false;
    }
}
