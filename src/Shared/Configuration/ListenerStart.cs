using System.Net.Sockets;

namespace Authio.Shared.Configuration;

/// <summary>
/// Starts one listener; an address it cannot bind (taken by another process, or a port the user may not open) stops
/// start-up as a configuration error naming the setting that chose the address, instead of an unhandled exception.
/// </summary>
public static class ListenerStart
{
    public static async Task RunAsync(string key, Func<Task> start)
    {
        try
        {
            await start();
        }
        catch (Exception ex) when (Describe(ex) is { } problem)
        {
            throw new ConfigurationException(key, problem);
        }
    }

    /// <summary>What went wrong binding, in one line; null for any other failure (which stays what it is).</summary>
    private static string? Describe(Exception ex) => ex switch
    {
        // Kestrel: an IOException "Failed to bind to address http://127.0.0.1:8080: address already in use." around
        // its AddressInUseException around the socket's error.
        IOException { InnerException.InnerException: SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } }
            => $"cannot be listened on: {ex.Message}",
        SocketException socket => $"cannot be listened on: {socket.Message} ({socket.SocketErrorCode})",
        _ => null,
    };
}
