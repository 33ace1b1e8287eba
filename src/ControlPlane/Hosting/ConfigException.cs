namespace Authio.ControlPlane.Hosting;

/// <summary>Bad configuration: start-up stops with this message, which names the key.</summary>
internal sealed class ConfigException(string key, string problem) : Exception($"Configuration error: {key} {problem}")
{
    public string Key { get; } = key;
}
