using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.Revocation;

/// <summary>The revocation stage of the hot path, consulted on every request including cache hits.</summary>
internal interface IRevocationCheck
{
    /// <summary>From memory only, allocation-free. <see cref="RevocationVerdict.Unconfirmed"/> asks for <see cref="ConfirmAsync"/>.</summary>
    RevocationVerdict Check(EdgeIdentity identity);

    /// <summary>
    /// Settles an <see cref="RevocationVerdict.Unconfirmed"/> answer against the exact set (one Redis round trip, rare).
    /// Answers <see cref="RevocationVerdict.Unconfirmed"/> again when the exact set cannot be consulted.
    /// </summary>
    ValueTask<RevocationVerdict> ConfirmAsync(EdgeIdentity identity, CancellationToken cancellationToken);
}

/// <summary>Used until a revocation feed is configured: nothing is revoked.</summary>
internal sealed class NoRevocations : IRevocationCheck
{
    public RevocationVerdict Check(EdgeIdentity identity) => RevocationVerdict.Clean;

    public ValueTask<RevocationVerdict> ConfirmAsync(EdgeIdentity identity, CancellationToken cancellationToken) => new(RevocationVerdict.Clean);
}
