using System.Globalization;
using System.Text.Json;

namespace Authio.Load.Tools.Kit;

/// <summary>
/// <c>run</c>: runs a scenario file against a target (and, in comparison mode, against a baseline such as bare YARP,
/// alternating), writes <c>result.json</c> and <c>report.html</c> to <c>--out</c> and prints a summary and the ratio.
/// <c>scenario</c>: prints a scenario (JSON or YAML) as normalized JSON, for scripts (load/kit.sh reads it with jq).
/// <c>report</c>: renders report.html again from a result.json. <c>keygen</c>, <c>mint</c>: see <see cref="Minter"/>.
/// </summary>
public static class LoadKitCli
{
    public const string RunUsage = """
        run --scenario FILE [--target URL] [--baseline URL | --compare] [--rounds N] [--credentials FILE] [--out DIR]
            [--target-name NAME] [--baseline-name NAME]
            [--duration 10s] [--warmup 2s] [--rps N] [--connections N] [--cp URL --email E --password P]
        """;

    /// <returns>0 when every target run got only the scenario's expected statuses, 1 otherwise, 2 on bad arguments.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter log, CancellationToken cancel = default)
    {
        try
        {
            return await RunCoreAsync(args, log, cancel);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidDataException or IOException or HttpRequestException)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 2;
        }
    }

    private static async Task<int> RunCoreAsync(string[] args, TextWriter log, CancellationToken cancel)
    {
        switch (args.FirstOrDefault())
        {
            case "keygen":
                await log.WriteLineAsync(Minter.Keygen(Options.Parse(args).Require("out")));
                return 0;
            case "mint":
                return await Minter.RunAsync(Options.Parse(args), log);
        }
        if (args.FirstOrDefault() == "report")
        {
            // Renders report.html again from a result.json (e.g. after editing labels, or with a newer report layout).
            var options = Options.Parse(args);
            var path = options.Require("result");
            var saved = JsonSerializer.Deserialize<KitReport>(await File.ReadAllTextAsync(path, cancel), Scenario.JsonOptions)
                ?? throw new InvalidDataException($"{path}: empty");
            var output = options.Get("out") ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "report.html");
            await File.WriteAllTextAsync(output, HtmlReport.Render(saved), cancel);
            await log.WriteLineAsync($"== wrote {output}");
            return 0;
        }
        Options o;
        Scenario scenario;
        try
        {
            o = Options.Parse(args);
            scenario = Scenario.Load(o.Require("scenario"));
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or JsonException)
        {
            await log.WriteLineAsync($"error: {e.Message}\nusage: {RunUsage}");
            return 2;
        }
        if (args.FirstOrDefault() == "scenario")
        {
            await log.WriteLineAsync(JsonSerializer.Serialize(scenario, Scenario.JsonOptions));
            return 0;
        }

        var credentials = LoadCredentials(o.Get("credentials") ?? scenario.Credentials?.File, scenario);
        var overrides = new RunOverrides(
            o.Get("warmup") is { } w ? Scenario.ParseDuration(w, "--warmup") : null,
            o.Get("duration") is { } d ? Scenario.ParseDuration(d, "--duration") : null,
            o.Get("rps") is { } r ? double.Parse(r, CultureInfo.InvariantCulture) : null,
            o.Get("connections") is { } c ? int.Parse(c, CultureInfo.InvariantCulture) : null);
        var target = o.Get("target") ?? scenario.Target;
        var baseline = o.Get("baseline") ?? (o.Has("compare") ? scenario.Baseline ?? throw new ArgumentException("--compare: the scenario names no baseline; pass --baseline URL") : null);
        var rounds = int.Parse(o.Get("rounds") ?? "1", CultureInfo.InvariantCulture);
        var targetName = o.Get("target-name") ?? "target";
        var baselineName = o.Get("baseline-name") ?? "baseline";
        var outDir = Directory.CreateDirectory(o.Get("out") ?? Path.Combine("load-results", scenario.Name)).FullName;
        using var controlPlane = ControlPlaneClient.FromOptions(o);
        if (scenario.Revoke is not null && controlPlane is null)
        {
            await log.WriteLineAsync("error: this scenario revokes API keys: pass --cp URL --email E --password P");
            return 2;
        }

        var report = new KitReport
        {
            Scenario = scenario.Name,
            Description = scenario.Description,
            StartedAt = DateTimeOffset.UtcNow,
            Machine = new MachineFacts { LoadAverageBefore = LoadAverage() },
            Runs = [],
        };
        await log.WriteLineAsync($"== {scenario.Name}: {scenario.Description}");
        var stormRunner = new ScenarioRunner(scenario, credentials, controlPlane, log);
        // The storm revokes keys for good: only the first target run gets it; other runs use the runner without one.
        var plainRunner = new ScenarioRunner(scenario, credentials, null, log);
        var stormed = false;
        for (var round = 1; round <= rounds; round++)
        {
            var order = baseline is null ? ["target"] : round % 2 == 1 ? new[] { "baseline", "target" } : ["target", "baseline"];
            foreach (var role in order)
            {
                var runner = role == "target" && !stormed ? stormRunner : plainRunner;
                stormed |= role == "target";
                var name = role == "target" ? targetName : baselineName;
                var label = rounds > 1 ? $"{name} #{round}" : name;
                report.Runs.Add(await runner.RunAsync(role, label, round, role == "target" ? target : baseline!, overrides, cancel));
            }
        }
        report.Machine.LoadAverageAfter = LoadAverage();
        if (baseline is not null)
        {
            report.Comparison = Compare(report.Runs, scenario, targetName, baselineName);
            var cmp = report.Comparison;
            await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"== ratio {targetName} / {baselineName}: throughput {cmp.MedianThroughputRatio:F3} (median; rounds {string.Join(' ', cmp.ThroughputRatios.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)))}), p50 latency x{cmp.P50Ratio:F2}, p99 latency x{cmp.P99Ratio:F2}"));
            if (cmp.Note.Length > 0)
            {
                await log.WriteLineAsync($"   ({cmp.Note})");
            }
        }

        var json = Path.Combine(outDir, "result.json");
        var html = Path.Combine(outDir, "report.html");
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, Scenario.JsonOptions), cancel);
        await File.WriteAllTextAsync(html, HtmlReport.Render(report), cancel);
        await log.WriteLineAsync($"== wrote {json} and {html}");
        // A run with nothing measured (e.g. every request of a closed loop still stuck in connecting) proves nothing.
        var failed = report.Runs.Where(r => r.Role == "target" && (r.Unexpected > 0 || r.NotSent > 0 || r.Requests == 0)).ToList();
        foreach (var run in failed)
        {
            await log.WriteLineAsync(run.Requests == 0
                ? $"!! {run.Label}: no request started in the measured window"
                : $"!! {run.Label}: {run.Unexpected} answers outside the expected statuses ({string.Join(',', scenario.ExpectStatuses)}), {run.NotSent} not sent");
        }
        return failed.Count == 0 ? 0 : 1;
    }

    private static Credential[] LoadCredentials(string? file, Scenario scenario)
    {
        if (scenario.Credentials is null)
        {
            return [];
        }
        if (file is null)
        {
            throw new ArgumentException($"{scenario.Name} sends credentials: pass --credentials FILE (one per line; load/kit.sh mints them)");
        }
        var credentials = File.ReadLines(file).Where(l => l.Length > 0).Select(line => line.Split('\t') switch
        {
            [var id, var secret] => new Credential(secret, id),
            _ => new Credential(line.Trim(), null),
        }).ToArray();
        return credentials.Length > 0 ? credentials : throw new ArgumentException($"{file}: no credentials");
    }

    private static Comparison Compare(List<RunResult> runs, Scenario scenario, string target, string baseline)
    {
        var pairs = runs.GroupBy(r => r.Round)
            .Select(g => (t: g.First(r => r.Role == "target"), b: g.First(r => r.Role == "baseline")))
            .ToList();
        static double Ratio(double a, double b) => b > 0 ? Math.Round(a / b, 3) : 0;
        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }
        var throughput = pairs.Select(p => Ratio(p.t.ThroughputRps, p.b.ThroughputRps)).ToList();
        var note = scenario.Arrival.Model == "open"
            ? "open model: both sides are offered the same schedule, so the throughput ratio stays near 1 while both keep up; the latency ratios are the figure (use --rps above what the baseline sustains, or a closed scenario, to compare capacity)"
            : "";
        if (scenario.ExpectStatuses.Any(s => s != 200))
        {
            note += (note.Length > 0 ? "; " : "") + "the baseline does no authentication: it forwards what the target refuses";
        }
        return new Comparison
        {
            Target = target,
            Baseline = baseline,
            ThroughputRatios = throughput,
            MedianThroughputRatio = Math.Round(Median(throughput), 3),
            P50Ratio = Math.Round(Median(pairs.Select(p => Ratio(p.t.LatencyMs.P50, p.b.LatencyMs.P50))), 3),
            P99Ratio = Math.Round(Median(pairs.Select(p => Ratio(p.t.LatencyMs.P99, p.b.LatencyMs.P99))), 3),
            Note = note,
        };
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "";
        }
    }
}
