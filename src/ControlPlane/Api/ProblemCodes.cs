namespace Authio.ControlPlane.Api;

/// <summary>Endpoint metadata: codes this endpoint can answer with <see cref="Status"/> besides the usual ones (documented in OpenAPI).</summary>
internal sealed record ProblemCodes(int Status, string[] Codes);

internal static class ProblemCodesExtensions
{
    public static TBuilder ProducesCodes<TBuilder>(this TBuilder builder, int status, params string[] codes) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProblemCodes(status, codes));
}
