using System.Net;
using System.Text.Json.Nodes;

namespace Authio.ControlPlane.Tests;

internal static class Json
{
    public static async Task<JsonNode> BodyAsync(this HttpResponseMessage r, HttpStatusCode expected)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"expected {(int)expected}, got {(int)r.StatusCode}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    /// <summary>Asserts a problem+json rejection with the given status and stable code.</summary>
    public static async Task<JsonNode> ProblemAsync(this HttpResponseMessage r, HttpStatusCode status, string code)
    {
        var body = await r.BodyAsync(status);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, (string?)body["code"]);
        Assert.Equal((int)status, (int)body["status"]!);
        return body;
    }
}
