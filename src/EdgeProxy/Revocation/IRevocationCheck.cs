using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.Revocation;

/// <summary>The revocation stage of the hot path, consulted on every request including cache hits.</summary>
internal interface IRevocationCheck
{
    bool IsRevoked(EdgeIdentity identity);
}

/// <summary>Used until a revocation feed is configured: nothing is revoked.</summary>
internal sealed class NoRevocations : IRevocationCheck
{
    public bool IsRevoked(EdgeIdentity identity) => false;
}
