using Authio.EdgeProxy.Configuration;

namespace Authio.EdgeProxy.Hosting;

/// <summary>
/// Applies <see cref="EdgeTransportOptions.InlineCompletions"/>. The runtime reads the variable once, when the
/// process's first asynchronous socket operation starts its socket engines, so this runs before any feature that
/// connects (Redis, the control plane) is registered; the operator's own setting of the variable wins.
/// </summary>
internal static class SocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static void Apply(EdgeTransportOptions options)
    {
        if (Resolve(Environment.GetEnvironmentVariable(Variable), options) is { } value)
        {
            Environment.SetEnvironmentVariable(Variable, value);
        }
    }

    /// <summary>The value to give the variable (null: leave it as the operator set it).</summary>
    public static string? Resolve(string? current, EdgeTransportOptions options) =>
        current is not null ? null : options.InlineCompletions ? "1" : "0";
}
