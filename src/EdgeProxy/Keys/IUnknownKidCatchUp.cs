namespace Authio.EdgeProxy.Keys;

/// <summary>
/// A key source other than an issuer's JWKS endpoint that an unknown kid makes look again: the control plane's change
/// feed, which may not have delivered a new org's key yet when its first token arrives.
/// </summary>
internal interface IUnknownKidCatchUp
{
    /// <summary>True when the source was read (the caller authenticates again); false when throttled or it failed.</summary>
    Task<bool> CatchUpForUnknownKidAsync(CancellationToken cancellationToken);
}
