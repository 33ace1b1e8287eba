using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using YamlDotNet.RepresentationModel;

namespace Authio.Load.Tools.Kit;

/// <summary>
/// A load scenario as written in <c>load/scenarios/*.json</c> (or <c>.yaml</c>): what to send, with which credentials,
/// at which arrival rate, for how long. <see cref="Stack"/> is read by <c>load/kit.sh</c> (which processes to start);
/// the runner itself only needs a target URL.
/// </summary>
internal sealed class Scenario
{
    public required string Name { get; init; }

    public string Description { get; init; } = "";

    /// <summary>Base URL of the system under test; <c>--target</c> overrides it.</summary>
    public string Target { get; init; } = "http://127.0.0.1:8080";

    /// <summary>Base URL of the reference (bare YARP) for comparison mode; <c>--baseline</c> overrides it.</summary>
    public string? Baseline { get; init; }

    public RequestTemplate Request { get; init; } = new();

    public CredentialSource? Credentials { get; init; }

    public ArrivalModel Arrival { get; init; } = new();

    /// <summary>Connection pool size (open model: the most requests in flight on the wire; more wait for a connection).</summary>
    public int Connections { get; init; } = 32;

    public string Warmup { get; init; } = "2s";

    public string Duration { get; init; } = "10s";

    /// <summary>Statuses the scenario expects; any other answer (or a transport error) makes the run fail.</summary>
    public int[] ExpectStatuses { get; init; } = [200];

    /// <summary>Revocation storm: revoke the credentials (API keys, by id) at the control plane while the load runs.</summary>
    public RevocationStorm? Revoke { get; init; }

    public StackSpec Stack { get; init; } = new();

    public TimeSpan WarmupSpan => ParseDuration(Warmup, "warmup");

    public TimeSpan DurationSpan => ParseDuration(Duration, "duration");

    public static Scenario Load(string path)
    {
        var text = File.ReadAllText(path);
        var json = path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)
            ? YamlToJson(text)
            : text;
        var scenario = JsonSerializer.Deserialize<Scenario>(json, JsonOptions) ?? throw new InvalidDataException($"{path}: empty scenario");
        scenario.Validate(path);
        return scenario;
    }

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static TimeSpan ParseDuration(string text, string what)
    {
        var t = text.Trim();
        var (number, unit) = t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], 0.001)
            : t.EndsWith('s') ? (t[..^1], 1.0)
            : t.EndsWith('m') ? (t[..^1], 60.0)
            : (t, 1.0);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || value > 86_400)
        {
            throw new InvalidDataException($"{what}: '{text}' is not a duration (e.g. 500ms, 10s, 2m)");
        }
        return TimeSpan.FromSeconds(value * unit);
    }

    private void Validate(string path)
    {
        void Fail(string message) => throw new InvalidDataException($"{path}: {message}");
        _ = WarmupSpan;
        if (DurationSpan <= TimeSpan.Zero)
        {
            Fail("duration must be positive");
        }
        if (Connections is < 1 or > 10_000)
        {
            Fail("connections must be 1 … 10 000");
        }
        if (!Request.Path.StartsWith('/'))
        {
            Fail("request.path must start with '/'");
        }
        switch (Arrival.Model)
        {
            case "open" when Arrival.Rps is null && Arrival.Phases is not { Length: > 0 }:
                Fail("arrival: the open model needs rps or phases");
                break;
            case "open" when Arrival.Rps is <= 0 || (Arrival.Phases?.Any(p => p.Rps <= 0 || ParseDuration(p.Duration, "phase") <= TimeSpan.Zero) ?? false):
                Fail("arrival: every rate and phase duration must be positive");
                break;
            case "closed" when Arrival.Connections is not > 0:
                Fail("arrival: the closed model needs connections > 0");
                break;
            case "open" or "closed":
                break;
            default:
                Fail($"arrival.model '{Arrival.Model}': use open (constant arrival rate) or closed (connections in a loop)");
                break;
        }
        if (Revoke is not null && Credentials?.Mint?.Kind != "api-key")
        {
            Fail("revoke needs API-key credentials (credentials.mint.kind = api-key): keys are revoked by id at the control plane");
        }
    }

    /// <summary>YAML (a mapping as the JSON form) to JSON text: scalars that read as numbers or booleans stay so.</summary>
    private static string YamlToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Count == 0 ? "{}" : (Convert(stream.Documents[0].RootNode)?.ToJsonString() ?? "{}");

        static JsonNode? Convert(YamlNode node) => node switch
        {
            YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, Convert(c.Value)))),
            YamlSequenceNode seq => new JsonArray(seq.Children.Select(Convert).ToArray()),
            YamlScalarNode { Style: not (YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted) } s
                when double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
            YamlScalarNode { Style: not (YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted), Value: "true" or "false" } s
                => JsonValue.Create(s.Value == "true"),
            YamlScalarNode { Style: not (YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted), Value: "null" or "~" or "" } => null,
            YamlScalarNode s => JsonValue.Create(s.Value),
            _ => null,
        };
    }
}

internal sealed class RequestTemplate
{
    public string Method { get; init; } = "GET";

    public string Path { get; init; } = "/api/items";

    public Dictionary<string, string> Headers { get; init; } = [];
}

/// <summary>
/// Where the credentials come from: a file of one credential per line (<c>--credentials</c> overrides <see cref="File"/>;
/// a line <c>id&lt;TAB&gt;secret</c> carries an API key's id for revocation), which <c>load/kit.sh</c> fills with the
/// minter as <see cref="Mint"/> says.
/// </summary>
internal sealed class CredentialSource
{
    public string? File { get; init; }

    public MintSpec? Mint { get; init; }

    public string Header { get; init; } = "Authorization";

    /// <summary>Prefix of the header value (<c>Bearer</c>); empty for a bare value.</summary>
    public string Scheme { get; init; } = "Bearer";

    /// <summary><c>sequential</c> (round robin) or <c>random</c> (uniform, seeded: runs compare like with like).</summary>
    public string Order { get; init; } = "sequential";
}

internal sealed class MintSpec
{
    /// <summary>jwt | api-key | expired | forged.</summary>
    public string Kind { get; init; } = "jwt";

    public int Count { get; init; } = 1;
}

internal sealed class ArrivalModel
{
    /// <summary>
    /// <c>open</c>: requests start on a fixed schedule whatever the answers do, and each latency counts from the request's
    /// intended start (no coordinated omission); <c>closed</c>: <see cref="Connections"/> clients each send the next
    /// request when the previous one answered (wrk's model; latency from the actual send).
    /// </summary>
    public string Model { get; init; } = "open";

    public double? Rps { get; init; }

    /// <summary>Open model with changing rates: each phase's constant rate for its duration (the last one repeats).</summary>
    public RatePhase[]? Phases { get; init; }

    public int? Connections { get; init; }
}

internal sealed class RatePhase
{
    public double Rps { get; init; }

    public string Duration { get; init; } = "1s";
}

internal sealed class RevocationStorm
{
    /// <summary>Measured time after which the first key is revoked.</summary>
    public string After { get; init; } = "2s";

    public double PerSecond { get; init; } = 10;

    /// <summary>Share of the credentials revoked (0 … 1); the rest stay valid, so 200 and 401 coexist.</summary>
    public double Share { get; init; } = 0.5;
}

/// <summary>What <c>load/kit.sh</c> starts for this scenario (the runner ignores it).</summary>
internal sealed class StackSpec
{
    public bool ControlPlane { get; init; }

    /// <summary>Aim the load at the edge's forward-auth listener instead of its proxy listener.</summary>
    public bool ForwardAuth { get; init; }

    /// <summary>Extra edge arguments (configuration keys), e.g. a route rate limit.</summary>
    public string[] EdgeArgs { get; init; } = [];
}
