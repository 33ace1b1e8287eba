using System.Collections.Concurrent;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Revocation;
using Authio.Shared.Errors;
using Microsoft.AspNetCore.Http.Features;

namespace Authio.EdgeProxy.WebSockets;

/// <summary>
/// The live upgraded connections of this edge with the credential of each (bounded by
/// <c>Edge:WebSockets:MaxConnections</c>). A connection is closed (WebSocket close 1008, reason = the error code) when its
/// credential expires (a timer at <c>exp</c> + clock skew for tokens, the key's expiry for API keys) or when a revocation
/// that covers it (jti, sid, user not-before per org, API key id) is applied to the <see cref="RevocationStage"/>:
/// every applied change re-checks the live connections.
/// </summary>
internal sealed partial class LiveConnections : IDisposable
{
    private readonly ConcurrentDictionary<LiveConnection, byte> _live = new();
    private readonly IRevocationCheck _revocation;
    private readonly RevocationStage _stage;
    private readonly ILogger<LiveConnections> _logger;
    private readonly long _skewSeconds;
    private readonly int _capacity;
    private readonly bool _failClosed;
    private int _count;

    public LiveConnections(TimeProvider time, RevocationStage stage, IRevocationCheck revocation, EdgeOptions options, ILogger<LiveConnections> logger)
    {
        Time = time;
        _stage = stage;
        _revocation = revocation;
        _logger = logger;
        _skewSeconds = (long)options.Tokens.ClockSkew.TotalSeconds;
        _capacity = options.WebSockets.MaxConnections;
        _failClosed = options.Revocation.FailClosed;
        stage.Changed += OnRevocationsChanged;
    }

    public TimeProvider Time { get; }

    /// <summary>Connections being tracked now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The answer to an upgrade beyond <c>Edge:WebSockets:MaxConnections</c>: the edge could not end it on expiry or revocation.</summary>
    public static readonly EdgeError Full = new(429, ErrorCodes.RateLimitExceeded, "Too many requests",
        "This edge holds as many live upgraded connections as it is configured for; retry later.", null);

    /// <summary>
    /// For an upgrade request (HTTP/1.1 <c>Upgrade</c> or HTTP/2 extended CONNECT) accepted with <paramref name="identity"/>:
    /// registers the connection and wraps the upgrade so it can be closed. False when the registry is full (refuse it).
    /// Any other request costs two header checks.
    /// </summary>
    public bool TryTrack(HttpContext context, EdgeIdentity identity)
    {
        var request = context.Request;
        if (request.Headers.Upgrade.Count == 0 && !HttpMethods.IsConnect(request.Method))
        {
            return true;
        }
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var connect = context.Features.Get<IHttpExtendedConnectFeature>();
        var upgradable = upgrade?.IsUpgradableRequest == true;
        var extendedConnect = connect?.IsExtendedConnect == true;
        if (!upgradable && !extendedConnect)
        {
            return true;
        }
        if (Interlocked.Increment(ref _count) > _capacity)
        {
            Interlocked.Decrement(ref _count);
            LogFull(_logger, _capacity);
            return false;
        }
        var webSocket = extendedConnect
            ? string.Equals(connect!.Protocol, "websocket", StringComparison.OrdinalIgnoreCase)
            : IsWebSocketUpgrade(request.Headers.Upgrade);
        var connection = new LiveConnection(this, context, identity, webSocket, Deadline(identity));
        _live.TryAdd(connection, 0);
        context.Response.RegisterForDispose(connection);
        if (upgradable)
        {
            context.Features.Set<IHttpUpgradeFeature>(new LiveConnection.UpgradeFeature(upgrade!, connection));
        }
        if (extendedConnect)
        {
            context.Features.Set<IHttpExtendedConnectFeature>(new LiveConnection.ExtendedConnectFeature(connect!, connection));
        }
        connection.Arm(Time);
        // A revocation applied between authentication and registration must not be missed.
        Recheck(connection);
        return true;
    }

    private static bool IsWebSocketUpgrade(Microsoft.Extensions.Primitives.StringValues upgrade)
    {
        foreach (var value in upgrade)
        {
            if (value is not null && value.Contains("websocket", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The second from which the edge refuses the credential: tokens get the clock skew, API keys do not.</summary>
    private long Deadline(EdgeIdentity identity)
    {
        if (identity.KeyId is not null || identity.ExpiresAt == long.MaxValue)
        {
            return identity.ExpiresAt;
        }
        return identity.ExpiresAt > long.MaxValue - _skewSeconds ? long.MaxValue : identity.ExpiresAt + _skewSeconds;
    }

    internal bool IsExpired(LiveConnection connection) => Time.GetUtcNow().ToUnixTimeSeconds() >= connection.DeadlineUnix;

    internal EdgeError ExpiredError(LiveConnection connection) =>
        connection.Identity.KeyId is null ? EdgeError.Expired : ApiKeyAuthenticator.Expired;

    private static EdgeError RevokedError(EdgeIdentity identity) =>
        identity.KeyId is null ? EdgeError.Revoked : ApiKeyAuthenticator.Revoked;

    private void OnRevocationsChanged()
    {
        if (Count > 0)
        {
            // Off the feed's thread: the feed never waits on live connections.
            ThreadPool.UnsafeQueueUserWorkItem(static self => self.RecheckAll(), this, preferLocal: false);
        }
    }

    private void RecheckAll()
    {
        foreach (var pair in _live)
        {
            Recheck(pair.Key);
        }
    }

    private void Recheck(LiveConnection connection)
    {
        switch (_revocation.Check(connection.Identity))
        {
            case RevocationVerdict.Revoked:
                connection.Terminate(RevokedError(connection.Identity), CloseReason.Revoked);
                break;
            case RevocationVerdict.Unconfirmed:
                _ = ConfirmAsync(connection);
                break;
        }
    }

    /// <summary>A bloom positive: settled in Redis like a request's; unverifiable counts as revoked under <c>Edge:Revocation:FailClosed</c>.</summary>
    private async Task ConfirmAsync(LiveConnection connection)
    {
        try
        {
            var verdict = await _revocation.ConfirmAsync(connection.Identity, CancellationToken.None);
            if (verdict == RevocationVerdict.Revoked)
            {
                connection.Terminate(RevokedError(connection.Identity), CloseReason.Revoked);
            }
            else if (verdict == RevocationVerdict.Unconfirmed && _failClosed)
            {
                connection.Terminate(EdgeError.RevocationUnavailable, CloseReason.Revoked);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRecheckFailed(_logger, ex.GetType().Name);
        }
    }

    internal void Closed(LiveConnection connection, EdgeError error, CloseReason reason, bool closeFrameSent)
    {
        if (reason == CloseReason.Expired)
        {
            LogClosedExpired(_logger, error.Code, closeFrameSent);
        }
        else
        {
            LogClosedRevoked(_logger, error.Code, closeFrameSent);
        }
    }

    internal void Untrack(LiveConnection connection)
    {
        if (_live.TryRemove(connection, out _))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    public void Dispose() => _stage.Changed -= OnRevocationsChanged;

    /// <summary>Checks <c>Edge:WebSockets</c>; each message names its key.</summary>
    public static IEnumerable<string> Validate(WebSocketOptions options)
    {
        if (options.MaxConnections is < 1 or > 10_000_000)
        {
            yield return $"{EdgeOptions.Section}:WebSockets:MaxConnections must be between 1 and 10000000.";
        }
    }
}

/// <summary>The <c>Edge:WebSockets</c> section: upgraded (WebSocket) connections.</summary>
internal sealed class WebSocketOptions
{
    /// <summary>
    /// Live upgraded connections tracked at once (each is closed when its credential expires or is revoked). Beyond it
    /// an upgrade is refused with 429: an untracked connection could outlive its credential. Default 100 000.
    /// </summary>
    public int MaxConnections { get; set; } = 100_000;
}
