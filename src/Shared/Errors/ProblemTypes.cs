namespace Authio.Shared.Errors;

/// <summary>
/// The problem+json <c>type</c> of each stable <see cref="ErrorCodes"/> value: one vocabulary for the edge and the
/// control plane, so a client can branch on <c>type</c> or <c>code</c> alike, whichever service answered.
/// </summary>
public static class ProblemTypes
{
    /// <summary>Prefix of every problem type: a URN (RFC 9457 allows non-dereferenceable type URIs), followed by the code.</summary>
    public const string Prefix = "urn:authio:problem:";

    /// <summary>The type for a code, e.g. <c>urn:authio:problem:validation_failed</c>.</summary>
    public static string For(string code) => Prefix + code;
}
