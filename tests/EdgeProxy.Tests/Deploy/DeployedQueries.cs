using System.Text.Json;
using System.Text.RegularExpressions;

namespace Authio.EdgeProxy.Tests.Deploy;

/// <summary>One PromQL expression of a committed dashboard panel or alert rule, as the test runs it.</summary>
public sealed record DeployedQuery(string Source, string Expression);

/// <summary>
/// Reads the committed deploy/ files: every panel query and template variable of every Grafana dashboard, with the
/// variables substituted the way Grafana would by default, and alert expressions without their threshold.
/// </summary>
public static partial class DeployedQueries
{
    /// <summary>What Grafana substitutes for its built-in interval variables; the test's Prometheus scrapes every second.</summary>
    private static readonly Dictionary<string, string> BuiltIns = new()
    {
        ["__rate_interval"] = "1m",
        ["__interval"] = "1m",
        ["__range"] = "5m",
    };

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Authio.Edge.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Authio.Edge.sln not found above " + AppContext.BaseDirectory);
    }

    public static string[] DashboardFiles() =>
        Directory.GetFiles(Path.Combine(RepoRoot(), "deploy", "grafana"), "*.json").Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Every target expression of every panel (rows included), and for every query variable an expression that returns
    /// data exactly when the variable's <c>label_values(…)</c> would offer values.
    /// </summary>
    public static List<DeployedQuery> Dashboards()
    {
        var queries = new List<DeployedQuery>();
        foreach (var file in DashboardFiles())
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var root = json.RootElement;
            var name = Path.GetFileName(file);
            var values = new Dictionary<string, string>(BuiltIns);
            foreach (var variable in root.GetProperty("templating").GetProperty("list").EnumerateArray())
            {
                var variableName = variable.GetProperty("name").GetString()!;
                if (variable.GetProperty("type").GetString() != "query")
                {
                    continue;
                }
                // Grafana's default for these dashboards is "All", which it sends as the variable's allValue.
                values[variableName] = variable.TryGetProperty("allValue", out var all) && all.GetString() is { Length: > 0 } allValue ? allValue : ".*";
                var query = variable.GetProperty("query");
                var text = query.ValueKind == JsonValueKind.Object ? query.GetProperty("query").GetString()! : query.GetString()!;
                var labelValues = LabelValues().Match(text);
                queries.Add(new DeployedQuery($"{name} variable ${variableName}",
                    labelValues.Success ? $"count by ({labelValues.Groups["label"].Value}) ({labelValues.Groups["metric"].Value})" : text));
            }
            foreach (var panel in Panels(root.GetProperty("panels")))
            {
                if (!panel.TryGetProperty("targets", out var targets))
                {
                    continue;
                }
                var title = panel.GetProperty("title").GetString();
                foreach (var target in targets.EnumerateArray())
                {
                    if (target.TryGetProperty("expr", out var expr) && expr.GetString() is { Length: > 0 } text)
                    {
                        queries.Add(new DeployedQuery($"{name} panel \"{title}\" {target.GetProperty("refId").GetString()}", Substitute(text, values)));
                    }
                }
            }
        }
        return queries;
    }

    /// <summary>Replaces <c>$name</c>, <c>${name}</c>, <c>${name:format}</c> and <c>[[name]]</c>; an unknown variable stays and fails the query.</summary>
    public static string Substitute(string expression, IReadOnlyDictionary<string, string> values) =>
        Variable().Replace(expression, m =>
        {
            var name = m.Groups["a"].Success ? m.Groups["a"].Value : m.Groups["b"].Success ? m.Groups["b"].Value : m.Groups["c"].Value;
            return values.TryGetValue(name, out var value) ? value : m.Value;
        });

    /// <summary>
    /// An alert's expression without its final top-level comparison against a number (<c>expr &gt; 0.05</c> →
    /// <c>expr</c>), so the series it compares must exist; null when the expression does not end in one.
    /// </summary>
    public static string? WithoutThreshold(string expression)
    {
        var match = Threshold().Match(expression);
        if (!match.Success)
        {
            return null;
        }
        var body = match.Groups["body"].Value;
        var depth = 0;
        var quoted = false;
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (quoted)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                continue;
            }
            switch (c)
            {
                case '"':
                    quoted = true;
                    break;
                case '(':
                    depth++;
                    break;
                case ')' when --depth < 0:
                    return null;
            }
        }
        // The comparison is top-level only when every parenthesis before it is closed.
        return depth == 0 && !quoted ? body.Trim() : null;
    }

    private static IEnumerable<JsonElement> Panels(JsonElement panels)
    {
        foreach (var panel in panels.EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var nested))
            {
                foreach (var inner in Panels(nested))
                {
                    yield return inner;
                }
            }
        }
    }

    [GeneratedRegex(@"^\s*label_values\(\s*(?<metric>.+?)\s*,\s*(?<label>\w+)\s*\)\s*$", RegexOptions.Singleline)]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"\$\{(?<a>\w+)(?::\w+)?\}|\[\[(?<b>\w+)\]\]|\$(?<c>\w+)")]
    private static partial Regex Variable();

    [GeneratedRegex(@"^(?<body>.*?)\s*(?:==|!=|>=|<=|>|<)\s*(?:bool\s+)?[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$", RegexOptions.Singleline)]
    private static partial Regex Threshold();
}
