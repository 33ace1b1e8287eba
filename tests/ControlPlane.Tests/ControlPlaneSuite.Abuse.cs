using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Authio.Shared.ApiKeys;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// Schema-driven abuse: every operation in <c>/openapi/v1.json</c> gets extreme and wrong-typed input derived from its
/// own schema. The answer must never be 5xx, every 4xx must be problem+json with a <c>code</c> (and the matching
/// <c>type</c>), and a refused request must change nothing a client can read. A field the document leaves unbounded
/// (a number without minimum/maximum, a string without maxLength, an array without maxItems) fails the test.
/// </summary>
public abstract partial class ControlPlaneSuite
{
    private const string JsonType = "application/json";
    private const string FormType = "application/x-www-form-urlencoded";

    [SuiteFact]
    public async Task Every_operation_answers_abuse_with_4xx_problem_json_and_changes_nothing_when_refused()
    {
        var clock = Stopwatch.StartNew();
        var doc = JsonNode.Parse(await (await F.Http.GetAsync("/openapi/v1.json")).Content.ReadAsStringAsync())!;
        var world = await AbuseWorld.CreateAsync(F);
        var failures = new List<string>();
        var sent = 0;

        var operations = doc["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(m => (Path: p.Key, Method: m.Key.ToUpperInvariant(), Op: m.Value!)))
            .OrderBy(o => AbuseWorld.IsDestructive(o.Method, o.Path) ? 1 : 0).ThenBy(o => o.Path, StringComparer.Ordinal)
            .ToList();
        Assert.True(operations.Count > 30, "the document lists too few operations: " + operations.Count);

        var baseline = await world.SnapshotAsync();
        foreach (var (path, method, op) in operations)
        {
            foreach (var attempt in AbuseCases.For(doc, path, method, op, world, failures))
            {
                sent++;
                HttpResponseMessage response;
                try
                {
                    response = await world.SendAsync(attempt);
                }
                catch (HttpRequestException e)
                {
                    failures.Add($"{attempt}: transport error {e.Message}");
                    continue;
                }
                using (response)
                {
                    var status = (int)response.StatusCode;
                    var body = await response.Content.ReadAsStringAsync();
                    if (status >= 500)
                    {
                        failures.Add($"{attempt}: {status} {Trim(body)}");
                    }
                    else if (status >= 400)
                    {
                        var problem = ProblemOf(response, body);
                        if (problem is not null)
                        {
                            failures.Add($"{attempt}: {status} {problem}");
                        }
                        // A refused read has nothing to roll back; the snapshot (7 reads) is for refused writes.
                        if (attempt.Method == "GET")
                        {
                            continue;
                        }

                        var after = await world.SnapshotAsync();
                        if (after != baseline)
                        {
                            failures.Add($"{attempt}: refused with {status} but changed state:\n  before {Trim(baseline, 600)}\n  after  {Trim(after, 600)}");
                            baseline = after;
                        }
                    }
                    else
                    {
                        // Extreme but valid input may succeed; what it changed becomes the new baseline.
                        await world.EnsureLiveAsync();
                        baseline = await world.SnapshotAsync();
                    }
                }
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} abusive requests misbehaved ({clock.Elapsed.TotalSeconds:F0} s):\n"
            + string.Join("\n", failures.Take(60).Select(f => f.ReplaceLineEndings(" "))));
        Assert.True(sent > 500, "too few abusive requests were sent: " + sent);
    }

    /// <summary>Why a 4xx is not a proper problem+json rejection, or null when it is.</summary>
    private static string? ProblemOf(HttpResponseMessage response, string body)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"content-type {response.Content.Headers.ContentType?.MediaType ?? "(none)"}: {Trim(body)}";
        }

        JsonNode? json;
        try
        {
            json = JsonNode.Parse(body);
        }
        catch (System.Text.Json.JsonException)
        {
            return "body is not JSON: " + Trim(body);
        }
        var code = json?["code"]?.GetValue<string>();
        if (string.IsNullOrEmpty(code))
        {
            return "no code: " + Trim(body);
        }

        if ((string?)json!["type"] != ProblemTypes.For(code))
        {
            return $"type {(string?)json["type"]} does not match code {code}";
        }

        if ((int?)json["status"] != (int)response.StatusCode)
        {
            return "status member differs: " + Trim(body);
        }

        return null;
    }

    private static string Trim(string s, int max = 300) => s.Length <= max ? s : s[..max] + $"… ({s.Length} chars)";

    /// <summary>One abusive request, described for the failure message.</summary>
    private sealed record AbuseAttempt(string Method, string Path, string Scheme, string What, byte[]? Body, string? ContentType)
    {
        public override string ToString() => $"{Method} {Trim(Path, 120)} [{What}]";
    }

    /// <summary>The org the abuse happens in: its own mod (not the bootstrap admin), a victim user with a session, a team and keys.</summary>
    private sealed class AbuseWorld
    {
        private readonly ControlPlaneFixture _f;
        private string _modEmail = "";
        public string OrgId { get; private set; } = "";
        public string ModAccess { get; private set; } = "";
        public string EdgeKey { get; private set; } = "";
        public Dictionary<string, string> RealIds { get; } = new(StringComparer.Ordinal);

        private AbuseWorld(ControlPlaneFixture f) => _f = f;

        public static async Task<AbuseWorld> CreateAsync(ControlPlaneFixture f)
        {
            var w = new AbuseWorld(f);
            // A mod of Acme creates the abuse org, so the bootstrap admin stays in one org (its sign-in needs no org_id).
            var (_, modEmail) = await f.CreateUserAsync("mod");
            w._modEmail = modEmail;
            var first = await f.LoginOkAsync(modEmail, ControlPlaneFixture.DefaultPassword);
            var org = await (await f.SendAsync(HttpMethod.Post, "/v1/orgs", first.Access, new { name = "abuse-" + Guid.NewGuid().ToString("N")[..8] }))
                .BodyAsync(HttpStatusCode.Created);
            w.OrgId = (string)org["id"]!;
            await w.LoginAsync();

            var victimEmail = $"victim{Guid.NewGuid():N}@acme.test";
            var victim = await (await f.SendAsync(HttpMethod.Post, "/v1/users", w.ModAccess,
                new { email = victimEmail, password = ControlPlaneFixture.DefaultPassword, role = "explore" })).BodyAsync(HttpStatusCode.Created);
            var victimId = (string)victim["id"]!;
            await f.LoginOkAsync(victimEmail, ControlPlaneFixture.DefaultPassword);
            var sessions = await (await f.SendAsync(HttpMethod.Get, $"/v1/users/{victimId}/sessions", w.ModAccess)).BodyAsync(HttpStatusCode.OK);
            var team = await (await f.SendAsync(HttpMethod.Post, "/v1/teams", w.ModAccess, new { name = "abuse-team" })).BodyAsync(HttpStatusCode.Created);
            await (await f.SendAsync(HttpMethod.Put, $"/v1/teams/{(string)team["id"]!}/members/{victimId}", w.ModAccess)).BodyAsync(HttpStatusCode.OK);
            var key = await (await f.SendAsync(HttpMethod.Post, "/v1/api-keys", w.ModAccess,
                new { name = "abuse", scopes = new[] { "read:leads" }, environment = "test" })).BodyAsync(HttpStatusCode.Created);
            // Edge keys belong to the operator org and only an operator mints them: the bootstrap admin.
            var edge = await (await f.SendAsync(HttpMethod.Post, "/v1/api-keys", (await f.AdminAsync()).Access,
                new { name = "abuse-edge", scopes = new[] { EdgeApiKeyPaths.EdgeSyncScope }, environment = "live" })).BodyAsync(HttpStatusCode.Created);
            w.EdgeKey = (string)edge["key"]!;

            w.RealIds["users"] = victimId;
            w.RealIds["members"] = victimId;
            w.RealIds["sessions"] = (string)sessions.AsArray()[0]!["id"]!;
            w.RealIds["teams"] = (string)team["id"]!;
            w.RealIds["api-keys"] = (string)key["id"]!;
            w.RealIds["orgs"] = w.OrgId;
            // Signing keys: no real kid. Until keys are per org they are the whole control plane's, and revoking one
            // (the only thing a request to /{kid}/revoke does) would end every other test's tokens. Bogus kids only.
            return w;
        }

        private async Task LoginAsync() => ModAccess = (await _f.LoginOkAsync(_modEmail, ControlPlaneFixture.DefaultPassword, OrgId)).Access;

        /// <summary>After a request that succeeded: if it ended the mod's session (it should not), sign in again.</summary>
        public async Task EnsureLiveAsync()
        {
            using var r = await _f.SendAsync(HttpMethod.Get, "/v1/org", ModAccess);
            if (r.StatusCode == HttpStatusCode.Unauthorized)
            {
                await LoginAsync();
            }
        }

        /// <summary>Everything a refused request must leave as it was, as the org's own mod reads it.</summary>
        public async Task<string> SnapshotAsync()
        {
            string[] paths =
            [
                "/v1/org", "/v1/users", "/v1/teams", "/v1/api-keys", "/v1/api-key-scopes", $"/v1/orgs/{OrgId}/rate-limits",
                $"/v1/users/{RealIds["users"]}/sessions",
            ];
            // Read concurrently: the reads are independent, and this runs after every refused write.
            var parts = await Task.WhenAll(paths.Select(async path =>
            {
                using var r = await _f.SendAsync(HttpMethod.Get, path, ModAccess);
                return $"{path} {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}";
            }));
            // And what no read shows: revocations, edge changes, live sessions and refresh tokens written by a refused request.
            await using var db = await _f.OpenInspectorAsync();
            var counts = new List<long>();
            foreach (var sql in new[]
                     {
                         "SELECT COUNT(*) FROM revocations WHERE org_id = @OrgId", "SELECT COUNT(*) FROM edge_changes",
                         "SELECT COUNT(*) FROM sessions WHERE org_id = @OrgId AND ended_at IS NULL", "SELECT COUNT(*) FROM refresh_tokens WHERE org_id = @OrgId",
                     })
            {
                counts.Add(await Dapper.SqlMapper.ExecuteScalarAsync<long>(db, sql, new { OrgId }));
            }
            return string.Join('\n', parts) + "\nrows " + string.Join(' ', counts);
        }

        public async Task<HttpResponseMessage> SendAsync(AbuseAttempt a)
        {
            using var request = new HttpRequestMessage(new HttpMethod(a.Method), a.Path);
            var credential = a.Scheme switch { "EdgeApiKey" => EdgeKey, "Bearer" => ModAccess, _ => null };
            if (credential is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential);
            }

            if (a.Body is not null)
            {
                request.Content = new ByteArrayContent(a.Body);
                if (a.ContentType is not null)
                {
                    request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(a.ContentType);
                }
            }
            return await _f.Http.SendAsync(request);
        }

        /// <summary>Operations that end or remove what later operations use run last.</summary>
        public static bool IsDestructive(string method, string path) =>
            method == "DELETE" || path.EndsWith("/deactivate", StringComparison.Ordinal) || path.EndsWith("/revoke", StringComparison.Ordinal)
            || path.EndsWith("/logout-all", StringComparison.Ordinal) || path.EndsWith("/logout", StringComparison.Ordinal);
    }

    /// <summary>The abusive requests for one operation, derived from its schema.</summary>
    private static class AbuseCases
    {
        private const int HugeString = 1_000_000;
        private static readonly byte[] TenMegabyteBody = Encoding.ASCII.GetBytes(new string('a', 10 * 1024 * 1024));

        public static IEnumerable<AbuseAttempt> For(JsonNode doc, string path, string method, JsonNode op, AbuseWorld world, List<string> failures)
        {
            var scheme = op["security"]?.AsArray().Select(s => s!.AsObject().First().Key).FirstOrDefault() ?? "";
            var parameters = op["parameters"]?.AsArray().Select(p => p!).ToList() ?? [];
            var pathParams = parameters.Where(p => (string?)p["in"] == "path").Select(p => (string)p["name"]!).ToList();
            var query = parameters.Where(p => (string?)p["in"] == "query").ToList();
            var content = op["requestBody"]?["content"]?.AsObject();
            var mediaType = content?.Select(c => c.Key).FirstOrDefault();
            var bodySchema = mediaType is null ? null : Resolve(doc, content![mediaType]!["schema"]);
            var hasInputs = bodySchema is not null || query.Count > 0;
            var mutating = method is not "GET";

            foreach (var p in parameters)
            {
                CheckBounded(doc, $"{method} {path} parameter {(string)p["name"]!}", p["schema"], failures);
            }

            if (bodySchema is not null)
            {
                CheckBounded(doc, $"{method} {path} body", bodySchema, failures);
            }

            // Path values: real ids of the caller's org where the operation has inputs to abuse (or only reads),
            // else bogus ones; an input-less mutation on a real id is not abuse (it would just do its job).
            var real = Fill(path, pathParams, name => world.RealIds.GetValueOrDefault(Collection(path, name)) ?? "bogus");
            var targets = new List<string>();
            if (!mutating || hasInputs || pathParams.Count == 0)
            {
                targets.Add(real);
            }

            foreach (var bogus in new[] { "bogus", "org_" + new string('0', 26), new string('x', 201), "%FF%FE", "..%2F..%2Fhealthz", "0", "-1" })
            {
                if (pathParams.Count > 0)
                {
                    targets.Add(Fill(path, pathParams, _ => bogus));
                }
            }

            foreach (var target in targets)
            {
                // The oversized body goes to every operation (once): it must be refused before anything reads it.
                if (target == targets[0])
                {
                    yield return new(method, target, scheme, "10 MB body", TenMegabyteBody, JsonType);
                }

                if (target != real || bodySchema is null && (!mutating || pathParams.Count > 0))
                {
                    // Bogus ids (and reads): junk of every kind must still be a clean answer.
                    yield return new(method, target, scheme, "unexpected junk body", Encoding.UTF8.GetBytes("{\"x\":"), JsonType);
                    if (target != real)
                    {
                        continue;
                    }
                }
                if (bodySchema is null && !mutating && query.Count == 0 && pathParams.Count == 0)
                {
                    continue;
                }

                foreach (var q in query)
                {
                    foreach (var (what, value) in ParameterValues(doc, q["schema"]))
                    {
                        yield return new(method, target + (target.Contains('?', StringComparison.Ordinal) ? "&" : "?") + (string)q["name"]! + "=" + value,
                            scheme, $"query {(string)q["name"]!} {what}", null, null);
                    }
                }
                if (bodySchema is null)
                {
                    continue;
                }

                foreach (var (what, body, type) in Bodies(doc, bodySchema, mediaType!))
                {
                    yield return new(method, target, scheme, what, body, type);
                }
            }
        }

        private static string Collection(string path, string param)
        {
            var segments = path.Split('/');
            var i = Array.IndexOf(segments, "{" + param + "}");
            return i > 0 ? segments[i - 1] : "";
        }

        private static string Fill(string path, List<string> names, Func<string, string> value)
        {
            foreach (var n in names)
            {
                path = path.Replace("{" + n + "}", value(n), StringComparison.Ordinal);
            }

            return path;
        }

        private static JsonNode? Resolve(JsonNode doc, JsonNode? schema)
        {
            for (var i = 0; i < 10 && schema?["$ref"] is { } r; i++)
            {
                schema = doc["components"]!["schemas"]![((string)r!).Split('/')[^1]];
            }

            if (schema?["oneOf"] is JsonArray one)
            {
                return Resolve(doc, one.FirstOrDefault(s => (string?)s?["type"] != "null"));
            }

            return schema;
        }

        private static string TypeOf(JsonNode? schema) => schema?["type"] switch
        {
            JsonArray types => types.Select(t => (string)t!).FirstOrDefault(t => t != "null") ?? "null",
            JsonValue v => (string)v!,
            _ => schema?["properties"] is not null ? "object" : "any",
        };

        /// <summary>Every leaf a client can send has a published bound.</summary>
        private static void CheckBounded(JsonNode doc, string where, JsonNode? schema, List<string> failures, int depth = 0)
        {
            schema = Resolve(doc, schema);
            if (schema is null || depth > 6)
            {
                return;
            }

            switch (TypeOf(schema))
            {
                case "integer" or "number":
                    if (schema["minimum"] is null || schema["maximum"] is null)
                    {
                        failures.Add($"{where}: number without minimum/maximum");
                    }

                    break;
                case "string":
                    if (schema["maxLength"] is null)
                    {
                        failures.Add($"{where}: string without maxLength");
                    }

                    break;
                case "array":
                    if (schema["maxItems"] is null)
                    {
                        failures.Add($"{where}: array without maxItems");
                    }

                    CheckBounded(doc, where + "[]", schema["items"], failures, depth + 1);
                    break;
                case "object":
                    foreach (var (name, property) in schema["properties"]?.AsObject() ?? [])
                    {
                        CheckBounded(doc, $"{where}.{name}", property, failures, depth + 1);
                    }

                    break;
            }
        }

        private static IEnumerable<(string What, string Value)> ParameterValues(JsonNode doc, JsonNode? schema)
        {
            schema = Resolve(doc, schema);
            switch (TypeOf(schema))
            {
                case "integer" or "number":
                    foreach (var (what, n) in Numbers(schema!))
                    {
                        yield return (what, n);
                    }

                    yield return ("not a number", "abc");
                    yield return ("fraction", "1.5");
                    yield return ("huge digits", new string('9', 400));
                    break;
                default:
                    var max = (int?)schema?["maxLength"] ?? 200;
                    yield return ("over maxLength", new string('q', max + 1));
                    // A URL carries at most Kestrel's 8 KiB request line; bigger strings are a body matter.
                    yield return ("4 KB", new string('q', 4000));
                    yield return ("invalid UTF-8", "%FF%FE%C0%AF");
                    yield return ("empty", "");
                    break;
            }
        }

        private static IEnumerable<(string What, string Json)> Numbers(JsonNode schema)
        {
            yield return ("int64 max", long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture));
            yield return ("int64 min", long.MinValue.ToString(System.Globalization.CultureInfo.InvariantCulture));
            yield return ("negative", "-1");
            yield return ("zero", "0");
            if (decimal.TryParse(schema["maximum"]?.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var max) && max < long.MaxValue)
            {
                yield return ("maximum + 1", (max + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            if (decimal.TryParse(schema["minimum"]?.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var min) && min > long.MinValue)
            {
                yield return ("minimum - 1", (min - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            yield return ("beyond int64", "9223372036854775808");
            yield return ("1e300", "1e300");
        }

        /// <summary>A body that satisfies the schema's shape (not necessarily the service's rules).</summary>
        private static JsonNode? Sample(JsonNode doc, JsonNode? schema, int depth = 0)
        {
            schema = Resolve(doc, schema);
            if (depth > 6)
            {
                return null;
            }

            switch (TypeOf(schema))
            {
                case "integer" or "number":
                    return decimal.TryParse(schema!["minimum"]?.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var min)
                        ? JsonValue.Create(Math.Max(min, 0)) : JsonValue.Create(0);
                case "string":
                    if ((string?)schema!["format"] == "date-time")
                    {
                        return JsonValue.Create("2099-01-01T00:00:00Z");
                    }

                    return JsonValue.Create("x");
                case "boolean":
                    return JsonValue.Create(false);
                case "array":
                    return new JsonArray(Sample(doc, schema!["items"], depth + 1));
                case "object":
                    var o = new JsonObject();
                    foreach (var (name, property) in schema!["properties"]?.AsObject() ?? [])
                    {
                        o[name] = Sample(doc, property, depth + 1);
                    }

                    return o;
                default:
                    return null;
            }
        }

        /// <summary>Leaves of the body (path from the root, schema), descending into the first item of arrays.</summary>
        private static IEnumerable<(string[] Path, JsonNode Schema, bool Required)> Leaves(JsonNode doc, JsonNode? schema, string[] at, int depth = 0)
        {
            schema = Resolve(doc, schema);
            if (schema is null || depth > 6)
            {
                yield break;
            }

            var required = schema["required"]?.AsArray().Select(r => (string)r!).ToHashSet() ?? [];
            foreach (var (name, property) in schema["properties"]?.AsObject() ?? [])
            {
                var p = Resolve(doc, property)!;
                var path = at.Append(name).ToArray();
                yield return (path, p, required.Contains(name));
                if (TypeOf(p) == "object")
                {
                    foreach (var leaf in Leaves(doc, p, path, depth + 1))
                    {
                        yield return leaf;
                    }
                }

                if (TypeOf(p) == "array" && TypeOf(Resolve(doc, p["items"])) == "object")
                {
                    foreach (var leaf in Leaves(doc, p["items"], path.Append("0").ToArray(), depth + 1))
                    {
                        yield return leaf;
                    }
                }
            }
        }

        private static JsonNode With(JsonNode sample, string[] path, Func<JsonNode?, JsonNode?> change, bool remove = false)
        {
            var copy = sample.DeepClone();
            JsonNode parent = copy;
            foreach (var step in path[..^1])
            {
                parent = parent is JsonArray a ? a[int.Parse(step, System.Globalization.CultureInfo.InvariantCulture)]! : parent[step]!;
            }

            var last = path[^1];
            if (parent is JsonObject o)
            {
                if (remove)
                {
                    o.Remove(last);
                }
                else
                {
                    o[last] = change(o[last]);
                }
            }
            return copy;
        }

        private static IEnumerable<(string What, byte[] Body, string ContentType)> Bodies(JsonNode doc, JsonNode schema, string mediaType)
        {
            var sample = Sample(doc, schema) ?? new JsonObject();
            if (mediaType == FormType)
            {
                foreach (var f in FormBodies(schema))
                {
                    yield return f;
                }

                yield break;
            }
            byte[] Bytes(JsonNode? n) => Encoding.UTF8.GetBytes(n?.ToJsonString() ?? "null");
            yield return ("valid shape", Bytes(sample), JsonType);
            yield return ("unknown fields", Bytes(With(sample, ["zz_unknown"], _ => new JsonObject { ["a"] = 1 })), JsonType);
            yield return ("empty object", Bytes(new JsonObject()), JsonType);
            yield return ("JSON null", Bytes(null), JsonType);
            yield return ("JSON array", Bytes(new JsonArray(sample.DeepClone())), JsonType);
            yield return ("JSON string", Bytes(JsonValue.Create("x")), JsonType);
            yield return ("truncated JSON", Encoding.UTF8.GetBytes("{\"a\":"), JsonType);
            yield return ("empty body", [], JsonType);
            yield return ("text/plain", Bytes(sample), "text/plain");
            yield return ("deep nesting 10000 (body)", Encoding.ASCII.GetBytes(new string('[', 10_000) + new string(']', 10_000)), JsonType);
            yield return ("deep nesting 10000 (field)", Encoding.ASCII.GetBytes("{\"zz\":" + new string('[', 10_000) + new string(']', 10_000) + "}"), JsonType);
            yield return ("duplicate fields", Encoding.UTF8.GetBytes(sample.ToJsonString().TrimEnd('}') + (sample.AsObject().Count > 0 ? "," : "") + "\"zz\":1,\"zz\":2}"), JsonType);
            var firstString = Leaves(doc, schema, []).FirstOrDefault(l => TypeOf(l.Schema) == "string").Path;
            var marker = "\u0001INVALID\u0001";
            var invalid = Encoding.UTF8.GetBytes((firstString is null ? With(sample, ["zz"], _ => marker) : With(sample, firstString, _ => marker)).ToJsonString());
            yield return ("invalid UTF-8", Replace(invalid, Encoding.UTF8.GetBytes("\\u0001INVALID\\u0001"), [0xFF, 0xFE, 0xC0, 0xAF]), JsonType);

            foreach (var (path, leaf, required) in Leaves(doc, schema, []))
            {
                var name = string.Join('.', path);
                if (required)
                {
                    yield return ($"{name} missing", Bytes(With(sample, path, _ => null, remove: true)), JsonType);
                }

                yield return ($"{name} null", Bytes(With(sample, path, _ => null)), JsonType);
                var type = TypeOf(leaf);
                foreach (var (what, wrong) in WrongTypes(type))
                {
                    yield return ($"{name} {what}", Bytes(With(sample, path, _ => wrong())), JsonType);
                }

                switch (type)
                {
                    case "integer" or "number":
                        foreach (var (what, number) in Numbers(leaf))
                        {
                            yield return ($"{name} {what}", Bytes(With(sample, path, _ => JsonNode.Parse(number))), JsonType);
                        }

                        break;
                    case "string":
                        var max = (int?)leaf["maxLength"] ?? 200;
                        yield return ($"{name} over maxLength", Bytes(With(sample, path, _ => new string('s', max + 1))), JsonType);
                        yield return ($"{name} ~1 MB", Bytes(With(sample, path, _ => new string('s', HugeString))), JsonType);
                        yield return ($"{name} control characters", Bytes(With(sample, path, _ => "a\u0000b\u001b")), JsonType);
                        break;
                    case "array":
                        var items = (int?)leaf["maxItems"] ?? 100;
                        var item = Sample(doc, leaf["items"]);
                        yield return ($"{name} over maxItems", Bytes(With(sample, path, _ => new JsonArray(Enumerable.Range(0, items + 1).Select(_ => item?.DeepClone()).ToArray()))), JsonType);
                        yield return ($"{name} null items", Bytes(With(sample, path, _ => new JsonArray(null, null))), JsonType);
                        break;
                }
            }
        }

        private static IEnumerable<(string What, Func<JsonNode?> Value)> WrongTypes(string type)
        {
            if (type != "string")
            {
                yield return ("as string", () => JsonValue.Create("12"));
            }

            if (type is not ("integer" or "number"))
            {
                yield return ("as number", () => JsonValue.Create(12));
            }

            if (type != "boolean")
            {
                yield return ("as boolean", () => JsonValue.Create(true));
            }

            if (type != "object")
            {
                yield return ("as object", () => new JsonObject { ["a"] = 1 });
            }

            if (type != "array")
            {
                yield return ("as array", () => new JsonArray(1, 2));
            }

            if (type == "integer")
            {
                yield return ("as fraction", () => JsonValue.Create(1.5));
            }
        }

        private static IEnumerable<(string What, byte[] Body, string ContentType)> FormBodies(JsonNode schema)
        {
            byte[] Bytes(string s) => Encoding.ASCII.GetBytes(s);
            var fields = schema["properties"]?.AsObject().Select(p => (Name: p.Key, Max: (int?)p.Value?["maxLength"] ?? 200)).ToList() ?? [];
            string Valid(string? except = null, string? value = null) =>
                string.Join('&', fields.Select(f => f.Name + "=" + (f.Name == except ? value : "x")));
            yield return ("valid shape", Bytes(Valid()), FormType);
            yield return ("unknown fields", Bytes(Valid() + "&zz_unknown=1"), FormType);
            yield return ("empty form", [], FormType);
            yield return ("JSON instead of a form", Bytes("{\"token\":\"x\"}"), JsonType);
            yield return ("deep nesting 10000", Bytes(new string('[', 10_000) + new string(']', 10_000)), JsonType);
            yield return ("invalid percent-encoding", Bytes(Valid() + "&token=%FF%FE%C0%AF%"), FormType);
            yield return ("raw invalid UTF-8", [.. Bytes("token="), 0xFF, 0xFE, 0xC0, 0xAF], FormType);
            foreach (var (name, max) in fields)
            {
                yield return ($"{name} missing", Bytes(string.Join('&', fields.Where(f => f.Name != name).Select(f => f.Name + "=x"))), FormType);
                yield return ($"{name} empty", Bytes(Valid(name, "")), FormType);
                yield return ($"{name} control characters", Bytes(Valid(name, "org_x.a%00b%1B")), FormType);
                yield return ($"{name} twice", Bytes(Valid() + "&" + name + "=y"), FormType);
                yield return ($"{name} over maxLength", Bytes(Valid(name, new string('t', max + 1))), FormType);
                yield return ($"{name} ~1 MB", Bytes(Valid(name, new string('t', HugeString))), FormType);
            }
        }

        private static byte[] Replace(byte[] source, byte[] find, byte[] with)
        {
            var i = source.AsSpan().IndexOf(find);
            return i < 0 ? source : [.. source[..i], .. with, .. source[(i + find.Length)..]];
        }
    }
}
