using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Authio.ControlPlane.Api;

/// <summary>Describes the bearer schemes so the reference UI at <c>/docs</c> can send access tokens (and edge API keys).</summary>
internal static class OpenApiSetup
{
    public const string Scheme = "Bearer";
    public const string EdgeScheme = "EdgeApiKey";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Authio control plane";
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
