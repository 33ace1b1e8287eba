using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Orgs;
using Authio.ControlPlane.RateLimiting;
using Authio.Shared.Errors;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.OpenApi;

namespace Authio.ControlPlane.Api;

/// <summary>
/// Makes <c>/openapi/v1.json</c> the contract: every error response an operation can give, with its problem+json
/// schema and the stable <c>code</c>s it carries (in the description and as <c>x-codes</c>); the bounds that come from
/// configuration; and the default length cap <see cref="RequestBounds"/> enforces on every path and query value.
/// </summary>
internal static class OpenApiContract
{
    public const string ProblemSchema = "Problem";

    /// <summary>Which codes each status can carry. Shared by every operation that can answer it.</summary>
    private static readonly Dictionary<int, (string Title, string[] Codes)> Statuses = new()
    {
        [400] = ("The request is malformed or a field is out of its bounds; errors.<field> says which", [ErrorCodes.ValidationFailed]),
        [401] = ("Missing, invalid or revoked credential", [ErrorCodes.Unauthorized]),
        [403] = ("The caller's role or scopes do not allow this", [ErrorCodes.Forbidden]),
        [404] = ("Not found (also for ids of another org)", [ErrorCodes.NotFound]),
        [409] = ("Conflicts with the current state", [ErrorCodes.Conflict]),
        [413] = ("The request body exceeds ControlPlane:Limits:MaxRequestBodyBytes", [ErrorCodes.PayloadTooLarge]),
        [423] = ("The account is locked after too many failures", [ErrorCodes.AccountLocked]),
        [429] = ("Rate limit reached; see Retry-After", [ErrorCodes.RateLimitExceeded]),
    };

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
            document.Components.Schemas[ProblemSchema] = Problem();
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            var statuses = new SortedSet<int>();
            foreach (var r in context.Description.SupportedResponseTypes)
            {
                if (r.StatusCode >= 400)
                {
                    statuses.Add(r.StatusCode);
                }
            }
            var hasBody = operation.RequestBody is not null;
            if (hasBody || operation.Parameters is { Count: > 0 })
            {
                statuses.Add(400);
            }

            if (hasBody)
            {
                statuses.Add(413);
            }

            if (operation.Security is { Count: > 0 })
            {
                statuses.UnionWith([401, 403]);
            }

            if (context.Description.RelativePath is { } path && path.Contains('{', StringComparison.Ordinal))
            {
                statuses.Add(404);
            }

            if (metadata.Any(m => m is RateLimitedEndpoint or EnableRateLimitingAttribute))
            {
                statuses.Add(429);
            }

            if (metadata.OfType<RateLimitedEndpoint>().Any(m => m.Action is LimitedAction.SignIn or LimitedAction.Refresh))
            {
                statuses.Add(401);
            }

            var extra = metadata.OfType<ProblemCodes>().ToList();
            statuses.UnionWith(extra.Select(e => e.Status));
            operation.Responses ??= new OpenApiResponses();
            foreach (var status in statuses)
            {
                var key = status.ToString(CultureInfo.InvariantCulture);
                var (title, codes) = Statuses.TryGetValue(status, out var known) ? known : ("Error", [ErrorCodes.InternalError]);
                codes = [.. codes, .. extra.Where(e => e.Status == status).SelectMany(e => e.Codes).Except(codes).Distinct()];
                var response = new OpenApiResponse
                {
                    Description = $"{title}. code: {string.Join(", ", codes)}",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(ProblemSchema, context.Document) },
                    },
                    Extensions = new Dictionary<string, IOpenApiExtension>
                    {
                        ["x-codes"] = new JsonNodeExtension(new JsonArray(codes.Select(c => (JsonNode)JsonValue.Create(c)!).ToArray())),
                    },
                };
                operation.Responses[key] = response;
            }
            DocumentParameterBounds(operation, context);
            return Task.CompletedTask;
        });
        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (schema is OpenApiSchema any)
            {
                ExactInt64Bounds(any);
                // System.Text.Json reads at most 42 characters of ISO 8601 for a date-time; anything longer is a 400.
                if (any.Format == "date-time" && any.MaxLength is null)
                {
                    any.MaxLength = 64;
                }
            }
            if (context.JsonPropertyInfo is not { } property || schema is not OpenApiSchema s)
            {
                return Task.CompletedTask;
            }

            var orgs = context.ApplicationServices.GetRequiredService<OrgStore>();
            if (property.DeclaringType == typeof(OrgSettingsRequest))
            {
                // The maximums are configuration (Tokens:MaxAccessTokenTtl, Tokens:RefreshTokenTtl), not attributes.
                if (property.Name == "access_token_ttl_seconds")
                {
                    s.Maximum = orgs.MaxAccessTtlSeconds.ToString(CultureInfo.InvariantCulture);
                }

                if (property.Name == "idle_timeout_seconds")
                {
                    s.Maximum = orgs.MaxIdleTimeoutSeconds.ToString(CultureInfo.InvariantCulture);
                }
            }
            if (property.AttributeProvider?.GetCustomAttributes(typeof(ItemLengthAttribute), true).FirstOrDefault() is ItemLengthAttribute items &&
                s.Items is OpenApiSchema itemSchema)
            {
                itemSchema.MaxLength = items.Length;
            }
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// Path and query strings: <see cref="RequestBounds.MaxParameterLength"/> unless the parameter says less; numbers: the
    /// <c>[Range]</c> on the handler parameter (the generator does not always carry it over to parameters).
    /// </summary>
    private static void DocumentParameterBounds(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        if (operation.Parameters is null)
        {
            return;
        }

        foreach (var parameter in operation.Parameters.OfType<OpenApiParameter>())
        {
            if (parameter.Schema is not OpenApiSchema schema)
            {
                continue;
            }

            var info = context.Description.ParameterDescriptions.FirstOrDefault(d => d.Name == parameter.Name)?.ParameterDescriptor;
            var range = (info as Microsoft.AspNetCore.Mvc.Infrastructure.IParameterInfoParameterDescriptor)?.ParameterInfo.GetCustomAttribute<RangeAttribute>();
            if (range is not null)
            {
                schema.Minimum ??= Convert.ToString(range.Minimum, CultureInfo.InvariantCulture);
                schema.Maximum ??= Convert.ToString(range.Maximum, CultureInfo.InvariantCulture);
            }
            ExactInt64Bounds(schema);
            var isString = schema.Type is { } t && t.HasFlag(JsonSchemaType.String) && !t.HasFlag(JsonSchemaType.Integer) && !t.HasFlag(JsonSchemaType.Number);
            if (isString && (schema.MaxLength is null || schema.MaxLength > RequestBounds.MaxParameterLength))
            {
                schema.MaxLength = RequestBounds.MaxParameterLength;
            }
        }
    }

    /// <summary>A <c>[Range(0, long.MaxValue)]</c> goes through a double; publish the exact int64 limits instead of 9223372036854776000.</summary>
    private static void ExactInt64Bounds(OpenApiSchema schema)
    {
        if (double.TryParse(schema.Maximum, NumberStyles.Float, CultureInfo.InvariantCulture, out var max) && max >= long.MaxValue)
        {
            schema.Maximum = long.MaxValue.ToString(CultureInfo.InvariantCulture);
        }

        if (double.TryParse(schema.Minimum, NumberStyles.Float, CultureInfo.InvariantCulture, out var min) && min <= long.MinValue)
        {
            schema.Minimum = long.MinValue.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static OpenApiSchema Problem() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "RFC 9457 problem details. type is urn:authio:problem:<code>, the same vocabulary as the edge's rejections.",
        Required = new HashSet<string> { "type", "title", "status", "code" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 200 },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 200 },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "400", Maximum = "599" },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 2000 },
            ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 50 },
            ["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "validation_failed only: messages per field (JSON name).",
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
        },
    };
}
