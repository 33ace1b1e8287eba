using System.Text;
using Yarp.ReverseProxy.Configuration;

// Load-test helpers for load/run.sh. Subcommands:
//   upstream  --port N                      minimal Kestrel app: 200 "ok" for any request
//   bare-yarp --port N --upstream URL [--identity-headers]
//                                           plain YARP, one catch-all route (the reference proxy); with
//                                           --identity-headers it also drops Authorization and sets fixed X-Authio-*
//                                           headers like the edge's, a diagnostic: what forwarding an identity costs
//   keygen    --out DIR                     ES256 key: DIR/key.pem (PKCS#8) and DIR/jwks.json (with kid)
//   mint      --count N [--kind jwt|api-key|expired|forged] --key DIR --issuer I --audience A [--bad-signature]
//             --kind api-key [--cp URL --email E --password P] [--scope S]
//                                           N credentials, one per line, on stdout (Kit/Minter.cs)
//   apikeys   --count N                     N random live API keys with a correct checksum (unknown to any control plane)
//   run       --scenario FILE ...           the load kit's scenario runner (Kit/LoadKitCli.cs, load/kit.sh)
//   scenario  --scenario FILE               a scenario file (JSON or YAML) as normalized JSON
//   report    --result FILE [--out FILE]    renders report.html again from a result.json
//   abuse     --edge URL --baseline F --fresh F --flood F [--seconds 10] [--valid-conns 8] [--flood-conns 16]
//                                           valid clients alone, then with a flood (load/abuse.sh)
//   soak-report --result soak.json [--out FILE]   the soak's report.html + SVG charts (load/soak.sh)
//   churn --edge URL --metrics URL --pid PID --tokens F [--seconds 180] [--warmup 30] [--interval 5] [--conns 32]
//                                           random tokens from F; prints the edge's RSS and GC heap over time (load/memory.sh)
//   edge-key    --cp URL --email E --password P                 creates an edge:sync API key, prints it
//   propagation --cp URL --email E --password P --edges U1,U2,U3 --count N [--label L] [--probe-interval-ms 2]
//                                           revoke N keys one by one, report p50/p99/max to the last edge's first 401
return args.FirstOrDefault() switch
{
    "edge-key" => await EdgeKey(Options.Parse(args)),
    "propagation" => await PropagationRun(Options.Parse(args)),
    "upstream" => await Upstream(Options.Parse(args)),
    "bare-yarp" => await BareYarp(Options.Parse(args)),
    "apikeys" => RandomApiKeys(Options.Parse(args)),
    "keygen" or "mint" or "run" or "scenario" or "report" => await Authio.Load.Tools.Kit.LoadKitCli.RunAsync(args, Console.Out),
    "abuse" => await AbuseRun(Options.Parse(args)),
    "churn" => await ChurnRun(Options.Parse(args)),
    "soak-report" => await Authio.Load.Tools.Kit.SoakReport.RunAsync(Options.Parse(args).Require("result"), Options.Parse(args).Get("out"), Console.Out),
    _ => Usage(),
};

static async Task<int> EdgeKey(Options o)
{
    Console.WriteLine(await Propagation.EdgeKeyAsync(o.Require("cp"), o.Require("email"), o.Require("password")));
    return 0;
}

static Task<int> PropagationRun(Options o) => Propagation.RunAsync(o.Require("cp"), o.Require("email"), o.Require("password"),
    o.Require("edges").Split(','), int.Parse(o.Require("count"), System.Globalization.CultureInfo.InvariantCulture), o.Get("label") ?? "propagation",
    int.Parse(o.Get("probe-interval-ms") ?? "2", System.Globalization.CultureInfo.InvariantCulture));

static int Usage()
{
    Console.Error.WriteLine("usage: Authio.Load.Tools (upstream --port N | bare-yarp --port N --upstream URL | keygen --out DIR"
        + " | mint --count N [--kind jwt|api-key|expired|forged] ... | scenario --scenario FILE | " + Authio.Load.Tools.Kit.LoadKitCli.RunUsage + ")");
    return 2;
}

static async Task<int> Upstream(Options o)
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.WebHost.UseUrls($"http://127.0.0.1:{o.Require("port")}");
    var app = builder.Build();
    var ok = "ok"u8.ToArray();
    app.Run(context =>
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/plain";
        context.Response.ContentLength = ok.Length;
        return context.Response.Body.WriteAsync(ok).AsTask();
    });
    await app.RunAsync();
    return 0;
}

static async Task<int> BareYarp(Options o)
{
    var builder = WebApplication.CreateBuilder();
    builder.Logging.ClearProviders();
    builder.WebHost.UseUrls($"http://127.0.0.1:{o.Require("port")}");
    builder.Services.AddReverseProxy().LoadFromMemory(
        [new RouteConfig { RouteId = "all", ClusterId = "up", Match = new RouteMatch { Path = "{**catch-all}" } }],
        [new ClusterConfig { ClusterId = "up", Destinations = new Dictionary<string, DestinationConfig> { ["d1"] = new() { Address = o.Require("upstream") } } }]);
    var app = builder.Build();
    if (o.Has("identity-headers"))
    {
        app.MapReverseProxy(proxy => proxy.Use((context, next) =>
        {
            var headers = context.Request.Headers;
            // The six the edge forwards for the load tokens (Kit/Minter.cs), at their sizes.
            headers["X-Authio-Subject"] = "user_000001";
            headers["X-Authio-Scopes"] = "read:applications";
            headers["X-Authio-Auth-Type"] = "jwt";
            headers["X-Authio-Org"] = "org_acme";
            headers["X-Authio-Session"] = "sess_000001";
            headers["X-Authio-Token-Id"] = "0f8fad5bd9cb469fa16570867728950e";
            headers.Authorization = default;
            return next(context);
        }));
    }
    else
    {
        app.MapReverseProxy();
    }
    await app.RunAsync();
    return 0;
}

static Task<int> AbuseRun(Options o)
{
    static string[] Lines(string path) => File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
    static int Int(Options o, string name, int fallback) => int.Parse(o.Get(name) ?? fallback.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
    return Abuse.RunAsync(o.Require("edge"), Lines(o.Require("baseline")), Lines(o.Require("fresh")), Lines(o.Require("flood")),
        TimeSpan.FromSeconds(Int(o, "seconds", 10)), Int(o, "valid-conns", 8), Int(o, "flood-conns", 16));
}

static Task<int> ChurnRun(Options o)
{
    static int Int(Options o, string name, int fallback) => int.Parse(o.Get(name) ?? fallback.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
    return Authio.Load.Tools.Churn.RunAsync(o.Require("edge"), o.Require("metrics"), Int(o, "pid", 0),
        File.ReadAllLines(o.Require("tokens")).Where(l => l.Length > 0).ToArray(), TimeSpan.FromSeconds(Int(o, "seconds", 180)),
        TimeSpan.FromSeconds(Int(o, "warmup", 30)), TimeSpan.FromSeconds(Int(o, "interval", 5)), Int(o, "conns", 32));
}

static int RandomApiKeys(Options o)
{
    var output = new StringBuilder();
    for (var i = int.Parse(o.Require("count"), System.Globalization.CultureInfo.InvariantCulture); i > 0; i--)
    {
        output.Append(Authio.Shared.ApiKeys.ApiKeyFormat.Generate(Authio.Shared.ApiKeys.ApiKeyEnvironment.Live)).Append('\n');
    }
    Console.Out.Write(output);
    return 0;
}

internal sealed class Options
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public static Options Parse(string[] args)
    {
        var options = new Options();
        for (var i = 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument '{args[i]}'");
            }
            var name = args[i][2..];
            var hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            options._values[name] = hasValue ? args[++i] : null;
        }
        return options;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.TryGetValue(name, out var value) ? value : null;

    public string Require(string name) =>
        _values.TryGetValue(name, out var value) && value is not null ? value : throw new ArgumentException($"--{name} is required");
}
