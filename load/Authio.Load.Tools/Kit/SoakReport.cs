using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Authio.Load.Tools.Kit;

/// <summary>
/// The soak's report: soak.json (written by the soak, tests/EdgeProxy.Tests/Soak) rendered as self-contained HTML with
/// the load kit's charts — p50/p99 latency per window, each edge's resident memory and GC heap over time — and the
/// counts, wrong decisions and propagation figures. Also writes the two charts as standalone SVG files beside it.
/// </summary>
internal static class SoakReport
{
    private static readonly string[] Colors = ["#1f6feb", "#cf222e", "#1a7f37", "#8250df"];

    public static async Task<int> RunAsync(string resultPath, string? outPath, TextWriter log)
    {
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(resultPath));
        var r = doc.RootElement;
        var dir = Path.GetDirectoryName(Path.GetFullPath(resultPath))!;
        var seconds = r.GetProperty("seconds").GetDouble();
        var windows = r.GetProperty("windows").EnumerateArray().ToArray();
        var latency = HtmlReport.Chart("soak-latency", "Latency per 5 s window (ms)", "seconds",
        [
            new HtmlReport.Series("p50", Colors[0], false, windows.Select(w => (w.GetProperty("t").GetDouble(), w.GetProperty("p50").GetDouble())).ToList()),
            new HtmlReport.Series("p99", Colors[1], false, windows.Select(w => (w.GetProperty("t").GetDouble(), w.GetProperty("p99").GetDouble())).ToList()),
        ], 0, seconds, null, null);
        var samples = r.GetProperty("memory").EnumerateArray().ToArray();
        var edges = r.GetProperty("edges").GetInt32();
        var memorySeries = new List<HtmlReport.Series>();
        for (var i = 0; i < edges; i++)
        {
            var edge = i;
            memorySeries.Add(new($"edge {edge + 1} RSS", Colors[edge % Colors.Length], false,
                samples.Select(s => (s.GetProperty("t").GetDouble(), s.GetProperty("rssMiB")[edge].GetDouble())).ToList()));
            memorySeries.Add(new($"edge {edge + 1} GC heap", Colors[edge % Colors.Length], true,
                samples.Select(s => (s.GetProperty("t").GetDouble(), s.GetProperty("gcHeapMiB")[edge].GetDouble())).ToList()));
        }
        var memory = HtmlReport.Chart("soak-memory", "Edge memory (MiB): resident set, GC heap (dashed)", "seconds", memorySeries, 0, seconds, null, null);

        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Soak report</title><style>")
            .Append("body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1040px;color:#1f2328;padding:0 16px}")
            .Append("table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #d1d9e0;padding:4px 8px;text-align:right}th{background:#f6f8fa}")
            .Append("th:first-child,td:first-child{text-align:left}svg text{font:12px system-ui,sans-serif;fill:#1f2328}")
            .Append("</style></head><body>\n<h1>Soak</h1>\n<table>");
        void Row(string name, string value) => html.Append("<tr><td>").Append(WebUtility.HtmlEncode(name)).Append("</td><td>").Append(WebUtility.HtmlEncode(value)).Append("</td></tr>\n");
        // Older soak.json files lack the capacity and API-key fields: rows for what is there.
        foreach (var name in new[] { "seconds", "edges", "capacityRps", "loadShare", "targetRps", "achievedRps", "requests", "apiKeyRequests", "wrongDecisions", "logins",
            "revocations", "apiKeyRevocations", "rotations", "rateLimitChanges", "rateLimited", "answersInPropagationWindow", "propagationBoundMs" })
        {
            if (r.TryGetProperty(name, out var value))
            {
                Row(name, value.ToString());
            }
        }
        Row("byStatus", r.GetProperty("byStatus").ToString());
        var p = r.GetProperty("propagationMs");
        Row("propagation to all edges (ms)", string.Create(CultureInfo.InvariantCulture,
            $"n {p.GetProperty("count")}, p50 {p.GetProperty("p50")}, p99 {p.GetProperty("p99")}, max {p.GetProperty("max")}"));
        if (r.TryGetProperty("apiKeyPropagationMs", out var k))
        {
            Row("API-key revocation to all edges (ms)", string.Create(CultureInfo.InvariantCulture,
                $"n {k.GetProperty("count")}, p50 {k.GetProperty("p50")}, p99 {k.GetProperty("p99")}, max {k.GetProperty("max")}"));
        }
        html.Append("</table>\n").Append(latency).Append(memory);
        foreach (var wrong in r.GetProperty("wrongSamples").EnumerateArray())
        {
            html.Append("<p>wrong: ").Append(WebUtility.HtmlEncode(wrong.GetString())).Append("</p>\n");
        }
        html.Append("</body></html>\n");
        var output = outPath ?? Path.Combine(dir, "report.html");
        await File.WriteAllTextAsync(output, html.ToString());
        await File.WriteAllTextAsync(Path.Combine(dir, "soak-latency.svg"), latency);
        await File.WriteAllTextAsync(Path.Combine(dir, "soak-memory.svg"), memory);
        await log.WriteLineAsync($"== wrote {output}, soak-latency.svg, soak-memory.svg");
        return 0;
    }
}
