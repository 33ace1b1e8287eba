using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Errors;
using Microsoft.AspNetCore.Http.Features;

namespace Authio.EdgeProxy.WebSockets;

/// <summary>
/// One upgraded connection (WebSocket over HTTP/1.1 Upgrade or HTTP/2 extended CONNECT) and the credential that opened
/// it. Its timer fires when the credential expires; <see cref="LiveConnections"/> re-checks it when revocations change.
/// </summary>
internal sealed class LiveConnection : IDisposable
{
    private readonly LiveConnections _owner;
    private readonly HttpContext _context;
    private readonly Lock _gate = new();
    private ITimer? _timer;
    private ClosingStream? _stream;
    private EdgeError? _pending;
    private CloseReason _pendingReason;
    private int _terminated;
    private bool _disposed;

    public LiveConnection(LiveConnections owner, HttpContext context, EdgeIdentity identity, bool webSocket, long deadlineUnix)
    {
        _owner = owner;
        _context = context;
        Identity = identity;
        WebSocket = webSocket;
        DeadlineUnix = deadlineUnix;
    }

    public EdgeIdentity Identity { get; }
    public bool WebSocket { get; }
    /// <summary>Unix seconds from which the edge would refuse the credential as expired (<see cref="long.MaxValue"/>: never).</summary>
    public long DeadlineUnix { get; }

    public void Arm(TimeProvider time)
    {
        var due = DueIn(time);
        if (due is { } delay)
        {
            lock (_gate)
            {
                if (!_disposed)
                {
                    _timer = time.CreateTimer(static state => ((LiveConnection)state!).OnTimer(), this, delay, Timeout.InfiniteTimeSpan);
                }
            }
        }
    }

    /// <summary>Null when the credential never expires; at most 30 days, so a far deadline re-arms instead of overflowing the timer.</summary>
    private TimeSpan? DueIn(TimeProvider time)
    {
        if (DeadlineUnix == long.MaxValue)
        {
            return null;
        }
        var left = DeadlineUnix - time.GetUtcNow().ToUnixTimeSeconds();
        return left <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(left, (long)TimeSpan.FromDays(30).TotalSeconds));
    }

    private void OnTimer()
    {
        if (_owner.IsExpired(this))
        {
            Terminate(_owner.ExpiredError(this), CloseReason.Expired);
            return;
        }
        lock (_gate)
        {
            if (!_disposed && DueIn(_owner.Time) is { } delay)
            {
                _timer?.Change(delay, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>The client-side stream of the accepted upgrade, wrapped so a close frame can be injected.</summary>
    public Stream Attach(Stream inner)
    {
        var stream = new ClosingStream(inner, WebSocket);
        EdgeError? pending;
        CloseReason reason;
        lock (_gate)
        {
            _stream = stream;
            pending = _pending;
            reason = _pendingReason;
        }
        if (pending is not null)
        {
            _ = CloseAsync(stream, pending, reason);
        }
        return stream;
    }

    /// <summary>Ends the connection once: close 1008 with the error's code, then both directions are torn down.</summary>
    public void Terminate(EdgeError error, CloseReason reason)
    {
        if (Interlocked.Exchange(ref _terminated, 1) != 0)
        {
            return;
        }
        ClosingStream? stream;
        lock (_gate)
        {
            stream = _stream;
            if (stream is null)
            {
                _pending = error; // not upgraded yet: closed as soon as the upgrade is accepted
                _pendingReason = reason;
            }
        }
        if (stream is not null)
        {
            _ = CloseAsync(stream, error, reason);
        }
    }

    private async Task CloseAsync(ClosingStream stream, EdgeError error, CloseReason reason)
    {
        var sent = await stream.CloseAsync(error.Code);
        _owner.Closed(this, error, reason, sent);
        // Ending the client reads makes YARP tear both sides down; should it not have within a second, cut the connection.
        await Task.Delay(ClosingStream.BoundaryTimeout);
        lock (_gate)
        {
            // Only while the request is live: after Dispose the context may already serve another stream.
            if (!_disposed)
            {
                _context.Abort();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _timer?.Dispose();
        }
        _owner.Untrack(this);
    }

    /// <summary>Hands YARP the wrapped client stream of an HTTP/1.1 upgrade.</summary>
    internal sealed class UpgradeFeature(IHttpUpgradeFeature inner, LiveConnection connection) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => inner.IsUpgradableRequest;

        public async Task<Stream> UpgradeAsync() => connection.Attach(await inner.UpgradeAsync());
    }

    /// <summary>Hands YARP the wrapped client stream of a WebSocket over HTTP/2 (RFC 8441 extended CONNECT).</summary>
    internal sealed class ExtendedConnectFeature(IHttpExtendedConnectFeature inner, LiveConnection connection) : IHttpExtendedConnectFeature
    {
        public bool IsExtendedConnect => inner.IsExtendedConnect;
        public string? Protocol => inner.Protocol;

        public async ValueTask<Stream> AcceptAsync() => connection.Attach(await inner.AcceptAsync());
    }
}

internal enum CloseReason : byte { Expired, Revoked }
