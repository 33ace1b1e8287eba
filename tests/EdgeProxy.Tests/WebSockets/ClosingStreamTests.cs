using Authio.EdgeProxy.WebSockets;

namespace Authio.EdgeProxy.Tests.WebSockets;

/// <summary>The close frame is put between upstream frames, never inside one, however the upstream's writes are cut.</summary>
public sealed class ClosingStreamTests
{
    private static readonly byte[] Close = ClosingStream.CloseFrame("token_expired");

    private static byte[] Frame(int payloadLength)
    {
        var header = payloadLength switch
        {
            < 126 => new byte[] { 0x82, (byte)payloadLength },
            <= ushort.MaxValue => [0x82, 126, (byte)(payloadLength >> 8), (byte)payloadLength],
            _ => [0x82, 127, 0, 0, 0, 0, (byte)(payloadLength >> 24), (byte)(payloadLength >> 16), (byte)(payloadLength >> 8), (byte)payloadLength],
        };
        return [.. header, .. Enumerable.Repeat((byte)0x5A, payloadLength)];
    }

    [Fact]
    public void The_close_frame_is_1008_with_the_code_as_reason()
    {
        Assert.Equal([0x88, 15, 0x03, 0xF0, .. "token_expired"u8.ToArray()], Close);
    }

    [Fact]
    public async Task Between_frames_the_close_goes_out_at_once_and_later_writes_are_refused()
    {
        var wire = new MemoryStream();
        var stream = new ClosingStream(wire, webSocket: true);
        var frame = Frame(10);
        await stream.WriteAsync(frame);

        Assert.True(await stream.CloseAsync("token_expired"));

        Assert.Equal([.. frame, .. Close], wire.ToArray());
        await Assert.ThrowsAsync<IOException>(() => stream.WriteAsync(Frame(3)).AsTask());
        await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(new byte[4]).AsTask());
    }

    [Theory]
    [InlineData(100, 1)]       // inside the 2-byte header
    [InlineData(100, 40)]      // inside the payload
    [InlineData(300, 3)]       // inside a 16-bit extended length
    [InlineData(70_000, 6)]    // inside a 64-bit extended length
    [InlineData(70_000, 50_000)]
    public async Task Mid_frame_the_close_waits_for_the_end_of_the_frame(int payloadLength, int split)
    {
        var wire = new MemoryStream();
        var stream = new ClosingStream(wire, webSocket: true);
        var first = Frame(5);
        var frame = Frame(payloadLength);
        await stream.WriteAsync(first);
        await stream.WriteAsync(frame.AsMemory(0, split));

        var closing = stream.CloseAsync("token_expired");
        Assert.Equal(first.Length + split, wire.Length); // nothing injected inside the frame
        // The rest of the frame and a following frame arrive in one write: only the frame's rest goes out, then the close.
        await Assert.ThrowsAsync<IOException>(() => stream.WriteAsync(frame.AsMemory(split).ToArray().Concat(Frame(7)).ToArray()).AsTask());

        Assert.True(await closing);
        Assert.Equal([.. first, .. frame, .. Close], wire.ToArray());
    }

    [Fact]
    public async Task A_frame_the_upstream_never_finishes_ends_the_connection_without_a_close_frame()
    {
        var wire = new MemoryStream();
        var stream = new ClosingStream(wire, webSocket: true);
        var frame = Frame(100);
        await stream.WriteAsync(frame.AsMemory(0, 50));

        Assert.False(await stream.CloseAsync("unauthorized"));

        Assert.Equal(frame[..50], wire.ToArray());
        await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(new byte[4]).AsTask());
    }
}
