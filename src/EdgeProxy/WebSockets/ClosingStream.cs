using System.Buffers.Binary;
using System.Text;

namespace Authio.EdgeProxy.WebSockets;

/// <summary>
/// The client side of an upgraded connection as YARP sees it. YARP copies raw bytes both ways; to end a WebSocket
/// cleanly the edge must put a close frame on the client's wire between two upstream frames, never inside one. So the
/// upstream → client direction (writes here) is followed frame by frame (RFC 6455 §5.2: 2-byte header, 16/64-bit
/// extended length, mask key when set), and <see cref="CloseAsync"/> writes the close frame under the write lock at a
/// boundary (control frames may sit between the fragments of a message, §5.4). Then reads from the client fail, which
/// makes YARP cancel the upstream direction and dispose the upstream connection: both sides end.
/// </summary>
internal sealed class ClosingStream(Stream inner, bool webSocket) : Stream
{
    /// <summary>Longest wait for the upstream to finish a frame it has started before the connection is cut without a close frame.</summary>
    internal static readonly TimeSpan BoundaryTimeout = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _ended = new();
    private readonly TaskCompletionSource _closeSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _header = new byte[14];
    private int _headerLength;
    private long _payloadLeft;
    private byte[]? _pendingClose;
    private CancellationToken _linkedFor;
    private CancellationTokenSource? _linked;

    /// <summary>True when the bytes written so far end exactly at a frame boundary.</summary>
    private bool AtBoundary => _headerLength == 0 && _payloadLeft == 0;

    /// <summary>
    /// Sends close 1008 with <paramref name="reason"/> at the next frame boundary (at once when the upstream is between
    /// frames, else as soon as its current frame is complete, for at most <see cref="BoundaryTimeout"/>), then ends both
    /// directions. True when the close frame went out.
    /// </summary>
    public async Task<bool> CloseAsync(string reason)
    {
        if (webSocket)
        {
            Volatile.Write(ref _pendingClose, CloseFrame(reason));
            if (await _writeLock.WaitAsync(BoundaryTimeout))
            {
                try
                {
                    if (AtBoundary)
                    {
                        await SendCloseAsync();
                    }
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
                {
                    _closeSent.TrySetResult(); // the client is gone: nothing left to tell it
                }
                finally
                {
                    _writeLock.Release();
                }
            }
            // Mid-frame: the write that completes the frame sends the close (see WriteAsync).
            await Task.WhenAny(_closeSent.Task, Task.Delay(BoundaryTimeout));
        }
        var sent = _closeSent.Task.IsCompletedSuccessfully && webSocket;
        _ended.Cancel();
        return sent;
    }

    /// <summary>Close frame (FIN + opcode 8), unmasked as a server sends it: status 1008 then the UTF-8 reason (≤ 123 bytes).</summary>
    internal static byte[] CloseFrame(string reason)
    {
        var text = Encoding.UTF8.GetBytes(reason);
        var length = Math.Min(text.Length, 123);
        var frame = new byte[4 + length];
        frame[0] = 0x88;
        frame[1] = (byte)(2 + length);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), 1008);
        text.AsSpan(0, length).CopyTo(frame.AsSpan(4));
        return frame;
    }

    private async Task SendCloseAsync()
    {
        if (_closeSent.Task.IsCompleted)
        {
            return;
        }
        await inner.WriteAsync(_pendingClose!);
        await inner.FlushAsync();
        _closeSent.TrySetResult();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (_closeSent.Task.IsCompleted || _ended.IsCancellationRequested)
            {
                throw new IOException("The edge closed this connection.");
            }
            if (!webSocket)
            {
                await inner.WriteAsync(buffer, cancellationToken);
                return;
            }
            if (Volatile.Read(ref _pendingClose) is null)
            {
                Track(buffer.Span);
                await inner.WriteAsync(buffer, cancellationToken);
                return;
            }
            // Closing: finish the frame the client has partly received, then the close frame; nothing after it.
            var rest = BytesToBoundary(buffer.Span);
            if (rest > 0)
            {
                Track(buffer.Span[..rest]);
                await inner.WriteAsync(buffer[..rest], cancellationToken);
            }
            if (AtBoundary)
            {
                await SendCloseAsync();
            }
            throw new IOException("The edge closed this connection.");
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Follows frame boundaries through <paramref name="data"/> (headers may be split across writes).</summary>
    private void Track(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_payloadLeft > 0)
            {
                var skip = (int)Math.Min(_payloadLeft, data.Length);
                _payloadLeft -= skip;
                data = data[skip..];
                continue;
            }
            _header[_headerLength++] = data[0];
            data = data[1..];
            if (_headerLength >= 2 && _headerLength == HeaderLength(_header))
            {
                _payloadLeft = PayloadLength(_header);
                _headerLength = 0;
            }
        }
    }

    /// <summary>How many bytes of <paramref name="data"/> complete the current frame (0 when already at a boundary).</summary>
    private long BytesToBoundaryLong(ReadOnlySpan<byte> data)
    {
        if (AtBoundary)
        {
            return 0;
        }
        if (_headerLength == 0)
        {
            return _payloadLeft;
        }
        // Inside a header: complete it on a copy to learn the payload length.
        Span<byte> header = stackalloc byte[14];
        _header.AsSpan(0, _headerLength).CopyTo(header);
        var have = _headerLength;
        var used = 0;
        while (used < data.Length)
        {
            header[have++] = data[used++];
            if (have >= 2 && have == HeaderLength(header))
            {
                return used + PayloadLength(header);
            }
        }
        return long.MaxValue;
    }

    private int BytesToBoundary(ReadOnlySpan<byte> data) => (int)Math.Min(BytesToBoundaryLong(data), data.Length);

    private static int HeaderLength(ReadOnlySpan<byte> header)
    {
        var length = (header[1] & 0x7F) switch { 126 => 4, 127 => 10, _ => 2 };
        return (header[1] & 0x80) != 0 ? length + 4 : length;
    }

    private static long PayloadLength(ReadOnlySpan<byte> header) => (header[1] & 0x7F) switch
    {
        126 => BinaryPrimitives.ReadUInt16BigEndian(header[2..]),
        // RFC 6455: the most significant bit must be 0; a frame claiming more never ends, which only delays the close.
        127 => (long)(BinaryPrimitives.ReadUInt64BigEndian(header[2..]) & long.MaxValue),
        var small => small,
    };

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_ended.IsCancellationRequested)
        {
            throw new IOException("The edge closed this connection.");
        }
        // YARP passes the same token to every read of a connection: one linked source per connection, not per read.
        if (!cancellationToken.CanBeCanceled)
        {
            return inner.ReadAsync(buffer, _ended.Token);
        }
        if (_linked is null || _linkedFor != cancellationToken)
        {
            _linked?.Dispose();
            _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _ended.Token);
            _linkedFor = cancellationToken;
        }
        return inner.ReadAsync(buffer, _linked.Token);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        // Under the write lock: a flush must never interleave with the close frame on the same pipe.
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (!_closeSent.Task.IsCompleted)
            {
                await inner.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _linked?.Dispose();
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
