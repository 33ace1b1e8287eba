using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Authio.ControlPlane.Api;

/// <summary>Describes the bearer schemes so the reference UI at <c>/docs</c> can send access tokens (and edge API keys).</summary>
internal static class OpenApiSetup
{
    public const string Scheme = "Bearer";
    public const string EdgeScheme = "EdgeApiKey";

    /// <summary>The API reference's introduction (OpenAPI <c>info.description</c>, Markdown).</summary>
    public const string Introduction = """
        Identity, sessions, signing keys, API keys and audit for Authio Edge. The edge proxy validates the ES256 access
        tokens issued here and follows this service's change feed.

        **Authenticate.** `POST /v1/auth/login` with `{"email", "password"}` returns an `access_token` (send it as
        `Authorization: Bearer …`; the **Bearer** scheme is selected above) and a `refresh_token` for `POST /v1/auth/refresh`.
        A user who belongs to several orgs must also send `"org_id"`: without it the sign-in answers 400 and names the
        orgs to choose from. The token's org is the org every `/v1` call acts on; other orgs' ids are simply not found.

        **Roles.** `explore` reads, `create` reads and writes, `mod` also administers users, teams, roles, keys and
        settings. Each operation says who may call it.

        **Errors.** Every refusal is `application/problem+json` with a stable `code` (and `type`
        `urn:authio:problem:<code>`); each operation lists the codes it can return. Bad input is 400 `validation_failed`
        with `errors.<field>`; rate limits are 429 `rate_limit_exceeded` with `Retry-After`.

        **Edges.** The `Edge` operations (`/v1/edge/*`) and `/oauth/introspect` take an API key with the `edge:sync`
        scope (scheme **EdgeApiKey**) instead of an access token.
        """;

    /// <summary>The contract at <c>/openapi/v1.json</c> and the reference UI at <c>/docs</c>.</summary>
    public static void MapApiReference(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        // No hosted AI chat ("Ask AI") and no developer toolbar (its "Deploy"/share buttons upload the document to
        // Scalar's registry): the reference talks to this service only. Access tokens are the usual credential.
        app.MapScalarApiReference("/docs", o => o.WithTitle("Authio control plane").DisableAgent().HideDeveloperTools()
            .AddPreferredSecuritySchemes(Scheme));
    }

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Authio control plane";
            document.Info.Description = Introduction;
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[Scheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "Access token from POST /v1/auth/login.",
            };
            document.Components.SecuritySchemes[EdgeScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "sk_live_… / sk_test_…",
                Description = "An API key with the edge:sync scope (edge proxies only).",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var path = context.Description.RelativePath ?? "";
            if (path.StartsWith("v1/edge/", StringComparison.Ordinal))
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(EdgeScheme, context.Document)] = [] });
                return Task.CompletedTask;
            }
            if (path == "oauth/introspect")
            {
                // Either credential: an edge's key or a mod's access token.
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(EdgeScheme, context.Document)] = [] });
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Scheme, context.Document)] = [] });
                return Task.CompletedTask;
            }
            // Everything under /v1 needs a token except obtaining one.
            if (path.StartsWith("v1/", StringComparison.Ordinal) && !path.StartsWith("v1/auth/login", StringComparison.Ordinal) &&
                !path.StartsWith("v1/auth/refresh", StringComparison.Ordinal))
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Scheme, context.Document)] = [] });
            }
            return Task.CompletedTask;
        });
        // After the security requirements above: the error responses depend on them.
        OpenApiContract.Configure(options);
    }
}
