using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Authio.Load.Tools.Kit;

/// <summary>
/// A self-contained HTML report (no script, no external resource): summary table, the latency distribution as a
/// percentile curve (HdrHistogram's plot: the x axis stretches the tail, 90 % → 99 % → 99.9 % …), throughput over time
/// per run by status, and p50/p99 per second. The result JSON is embedded as well.
/// </summary>
internal static class HtmlReport
{
    private const int Width = 820;
    private const int Height = 300;
    private const int Left = 64;
    private const int Right = 170;
    private const int Top = 34;
    private const int Bottom = 46;
    private static readonly string[] TargetColors = ["#1f6feb", "#0a3069", "#54aeff", "#218bff"];
    private static readonly string[] BaselineColors = ["#6e7781", "#24292f", "#afb8c1", "#424a53"];

    internal sealed record Series(string Name, string Color, bool Dashed, IReadOnlyList<(double X, double Y)> Points);

    public static string Render(KitReport report)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(E($"Load report: {report.Scenario}")).Append("</title>\n<style>")
            .Append("body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1040px;color:#1f2328;padding:0 16px}")
            .Append("h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}p.meta{color:#59636e;margin:0 0 12px}")
            .Append("table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:13px}th,td{border:1px solid #d1d9e0;padding:4px 8px;text-align:right}")
            .Append("th:first-child,td:first-child{text-align:left}th{background:#f6f8fa}.ratio{font-size:16px;margin:12px 0}.ratio b{font-size:20px}")
            .Append("svg{display:block;margin:6px 0 14px;background:#fff}svg text{font:12px system-ui,sans-serif;fill:#1f2328}.note{color:#59636e;font-size:13px}")
            .Append("</style></head><body>\n");
        html.Append("<h1>").Append(E(report.Scenario)).Append("</h1>\n<p class=\"meta\">").Append(E(report.Description)).Append("<br>")
            .Append(E(string.Create(CultureInfo.InvariantCulture,
                $"{report.StartedAt:yyyy-MM-dd HH:mm:ss} UTC · {report.Machine.Cores} cores · load average {report.Machine.LoadAverageBefore} before, {report.Machine.LoadAverageAfter} after · {report.Machine.Runtime}")))
            .Append("</p>\n");

        if (report.Comparison is { } c)
        {
            html.Append("<p class=\"ratio\" id=\"comparison\">").Append(E(c.Target)).Append(" / ").Append(E(c.Baseline))
                .Append(string.Create(CultureInfo.InvariantCulture, $": throughput <b>{c.MedianThroughputRatio:F3}</b> (median of rounds: {string.Join(", ", c.ThroughputRatios.Select(r => r.ToString("F3", CultureInfo.InvariantCulture)))}), p50 latency × {c.P50Ratio:F2}, p99 latency × {c.P99Ratio:F2}"))
                .Append("</p>\n");
            if (c.Note.Length > 0)
            {
                html.Append("<p class=\"note\">").Append(E(c.Note)).Append("</p>\n");
            }
        }

        html.Append("<h2>Summary</h2>\n<table id=\"summary\"><tr><th>run</th><th>model</th><th>requests</th><th>throughput req/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>service p99 ms</th><th>statuses</th><th>unexpected</th></tr>\n");
        foreach (var run in report.Runs)
        {
            var model = run.Model == "open"
                ? string.Create(CultureInfo.InvariantCulture, $"open {run.ScheduledRps:0.#}/s, ≤ {run.Connections} conns")
                : string.Create(CultureInfo.InvariantCulture, $"closed, {run.Connections} conns");
            html.Append(string.Create(CultureInfo.InvariantCulture,
                $"<tr><td>{E(run.Label)}</td><td>{E(model)}</td><td>{run.Requests}</td><td>{run.ThroughputRps:F1}</td><td>{run.LatencyMs.P50:F2}</td><td>{run.LatencyMs.P90:F2}</td><td>{run.LatencyMs.P99:F2}</td><td>{run.LatencyMs.P999:F2}</td><td>{run.LatencyMs.Max:F2}</td><td>{run.ServiceTimeMs.P99:F2}</td><td>{E(string.Join(" ", run.Statuses.Select(s => $"{s.Key}={s.Value}")))}</td><td>{run.Unexpected + run.NotSent}</td></tr>\n"));
        }
        html.Append("</table>\n<p class=\"note\">Open model: latency counts from each request's intended send time, so time spent queued behind a slow answer is included (no coordinated omission); \"service p99\" counts from the actual send. Closed model: both count from the actual send.</p>\n");

        html.Append("<h2>Latency distribution</h2>\n");
        var runs = report.Runs.Select(run => (run, color: (run.Role == "target" ? TargetColors : BaselineColors)[(run.Round - 1) % TargetColors.Length])).ToList();
        var tail = Math.Clamp(Math.Ceiling(Math.Log10(Math.Max(10, report.Runs.Max(r => r.Requests)))), 2, 5);
        var curves = runs.Select(r => new Series(r.run.Label, r.color, false,
            r.run.PercentileCurve.Select(p => (Math.Min(tail, p[0] >= 100 ? tail : -Math.Log10(1 - (p[0] / 100))), p[1])).ToList())).ToList();
        var xTicks = Enumerable.Range(0, (int)tail + 1).Select(i => (double)i).ToArray();
        html.Append(Chart("latency-distribution", "Latency by percentile (ms)", "percentile", curves, 0, tail, xTicks,
            x => x == 0 ? "0%" : (100 - (100 / Math.Pow(10, x))).ToString("0.#####", CultureInfo.InvariantCulture) + "%"));

        html.Append("<h2>Throughput over time</h2>\n");
        foreach (var (run, color) in runs)
        {
            var series = new List<Series>();
            if (run.Model == "open")
            {
                series.Add(new Series("scheduled", "#8c959f", true, run.Timeline.Select(p => (p.T, p.Sent / p.IntervalSeconds)).ToList()));
            }
            series.Add(new Series("all answers", color, false, run.Timeline.Select(p => (p.T, p.Completed / p.IntervalSeconds)).ToList()));
            foreach (var status in run.Statuses.Keys.Where(_ => run.Statuses.Count > 1))
            {
                series.Add(new Series(status, StatusColor(status), false,
                    run.Timeline.Select(p => (p.T, p.Statuses.GetValueOrDefault(status) / p.IntervalSeconds)).ToList()));
            }
            html.Append(Chart($"throughput-{Slug(run.Label)}", $"{run.Label}: responses per second, by status", "seconds", series, 0,
                Math.Max(run.DurationSeconds, run.Timeline.Count > 0 ? run.Timeline[^1].T : 0), Ticks(0, run.DurationSeconds), null));
        }

        html.Append("<h2>Latency over time</h2>\n");
        var perSecond = runs.SelectMany(r => new[]
        {
            new Series($"{r.run.Label} p99", r.color, false, r.run.Timeline.Select(p => (p.T, p.P99Ms)).ToList()),
            new Series($"{r.run.Label} p50", r.color, true, r.run.Timeline.Select(p => (p.T, p.P50Ms)).ToList()),
        }).ToList();
        html.Append(Chart("latency-over-time", "p50 and p99 per second (ms)", "seconds", perSecond, 0,
            report.Runs.Max(r => Math.Max(r.DurationSeconds, r.Timeline.Count > 0 ? r.Timeline[^1].T : 0)), Ticks(0, report.Runs.Max(r => r.DurationSeconds)), null));

        var events = report.Runs.Where(r => r.Events.Count > 0).ToList();
        if (events.Count > 0)
        {
            html.Append("<h2>Events</h2>\n");
            foreach (var run in events)
            {
                html.Append("<p class=\"note\">").Append(E(run.Label)).Append(string.Create(CultureInfo.InvariantCulture, $": {run.Events.Count} events, first "))
                    .Append(E(run.Events[0])).Append(", last ").Append(E(run.Events[^1])).Append("</p>\n");
            }
        }
        // The data behind the charts, for tooling; '<' escaped so the text cannot close the script element.
        html.Append("<script type=\"application/json\" id=\"result-data\">")
            .Append(JsonSerializer.Serialize(report, Scenario.JsonOptions).Replace("<", "\\u003c", StringComparison.Ordinal))
            .Append("</script>\n</body></html>\n");
        return html.ToString();
    }

    internal static string Chart(string id, string title, string xLabel, IReadOnlyList<Series> series, double xMin, double xMax,
        double[]? xTicks, Func<double, string>? xFormat)
    {
        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        var yMax = NiceCeiling(series.SelectMany(s => s.Points).Select(p => p.Y).DefaultIfEmpty(1).Max() * 1.05);
        xMax = xMax > xMin ? xMax : xMin + 1;
        xTicks ??= Ticks(xMin, xMax);
        xFormat ??= x => x.ToString("0.##", CultureInfo.InvariantCulture);
        string X(double x) => (Left + ((x - xMin) / (xMax - xMin) * plotW)).ToString("F1", CultureInfo.InvariantCulture);
        string Y(double y) => (Top + plotH - (y / yMax * plotH)).ToString("F1", CultureInfo.InvariantCulture);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg id=\"{id}\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{E(title)}\">");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"20\" style=\"font-weight:600\">{E(title)}</text>");
        foreach (var y in Ticks(0, yMax))
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Left + plotW}\" y1=\"{Y(y)}\" y2=\"{Y(y)}\" stroke=\"#eaeef2\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{Y(y)}\" dy=\"4\" text-anchor=\"end\">{y.ToString("0.###", CultureInfo.InvariantCulture)}</text>");
        }
        foreach (var x in xTicks)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(x)}\" x2=\"{X(x)}\" y1=\"{Top}\" y2=\"{Top + plotH}\" stroke=\"#eaeef2\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(x)}\" y=\"{Top + plotH + 16}\" text-anchor=\"middle\">{E(xFormat(x))}</text>");
        }
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#8c959f\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + (plotW / 2)}\" y=\"{Height - 8}\" text-anchor=\"middle\">{E(xLabel)}</text>");
        var legendY = Top + 6;
        foreach (var s in series)
        {
            if (s.Points.Count > 0)
            {
                var points = string.Join(' ', s.Points.Select(p => $"{X(p.X)},{Y(p.Y)}"));
                svg.Append(CultureInfo.InvariantCulture, $"<polyline class=\"series\" data-name=\"{E(s.Name)}\" fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"2\"{(s.Dashed ? " stroke-dasharray=\"5 4\"" : "")} points=\"{points}\"/>");
            }
            var lx = Left + plotW + 14;
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{lx}\" x2=\"{lx + 22}\" y1=\"{legendY}\" y2=\"{legendY}\" stroke=\"{s.Color}\" stroke-width=\"2\"{(s.Dashed ? " stroke-dasharray=\"5 4\"" : "")}/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{lx + 28}\" y=\"{legendY}\" dy=\"4\">{E(s.Name)}</text>");
            legendY += 18;
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static double[] Ticks(double min, double max)
    {
        var step = NiceCeiling((max - min) / 6);
        var ticks = new List<double>();
        for (var v = Math.Ceiling(min / step) * step; v <= max + (step * 1e-9) && ticks.Count < 20; v += step)
        {
            ticks.Add(Math.Round(v, 9));
        }
        return [.. ticks];
    }

    private static double NiceCeiling(double value)
    {
        if (value <= 0 || double.IsNaN(value))
        {
            return 1;
        }
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var m in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (m * magnitude >= value)
            {
                return m * magnitude;
            }
        }
        return 10 * magnitude;
    }

    private static string StatusColor(string status) => status switch
    {
        "error" => "#24292f",
        _ when status.StartsWith('2') => "#2da44e",
        "401" => "#d4a72c",
        "403" => "#fb8500",
        "429" => "#cf222e",
        _ when status.StartsWith('5') => "#6e40c9",
        _ => "#57606a",
    };

    private static string Slug(string label) => new([.. label.Where(char.IsAsciiLetterOrDigit)]);

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
