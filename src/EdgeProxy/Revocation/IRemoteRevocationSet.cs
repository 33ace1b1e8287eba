using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.Revocation;

/// <summary>
/// The exact revocation set held outside this edge (in Redis: <c>Redis/RedisRevocations</c>), asked only for
/// bloom-filter positives the in-memory tail cannot settle. <see cref="NoRemoteRevocations"/> when there is none.
/// </summary>
internal interface IRemoteRevocationSet
{
    /// <summary>False for the null object: every revoked id is then kept in memory.</summary>
    bool Configured { get; }

    /// <summary>The highest marker seen: every revocation at or below it is in the remote set.</summary>
    long MirroredThrough { get; }

    /// <summary>Reads the marker (off the request path). Null when unknown.</summary>
    Task<long?> RefreshThroughAsync();

    ValueTask<RevocationVerdict> ConfirmAsync(EdgeIdentity identity, RevocationSet set, CancellationToken cancellationToken);
}

/// <summary>No remote set (no <c>Edge:Redis</c>, or <c>Edge:Revocation:RedisExactSet</c> false): the edge holds every revoked id.</summary>
internal sealed class NoRemoteRevocations : IRemoteRevocationSet
{
    public static readonly NoRemoteRevocations Instance = new();

    private NoRemoteRevocations()
    {
    }

    public bool Configured => false;

    public long MirroredThrough => 0;

    public Task<long?> RefreshThroughAsync() => Task.FromResult<long?>(null);

    /// <summary>Never asked (<see cref="RevocationStage"/> settles everything in memory): "unconfirmed" if it were.</summary>
    public ValueTask<RevocationVerdict> ConfirmAsync(EdgeIdentity identity, RevocationSet set, CancellationToken cancellationToken) =>
        new(RevocationVerdict.Unconfirmed);
}
