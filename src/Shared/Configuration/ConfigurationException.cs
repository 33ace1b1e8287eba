namespace Authio.Shared.Configuration;

/// <summary>
/// Bad configuration, in either service: start-up stops with this message, which names every offending key, and the
/// process exits with code 2 (both <c>Program.cs</c>) instead of a stack trace.
/// </summary>
public sealed class ConfigurationException : Exception
{
    /// <summary>One problem with one key: "Configuration error: {key} {problem}".</summary>
    public ConfigurationException(string key, string problem)
        : base($"Configuration error: {key} {problem}")
    {
        Problems = [$"{key} {problem}"];
    }

    /// <summary>Every problem found in one section, each naming its key, under <paramref name="heading"/>.</summary>
    public ConfigurationException(string heading, IReadOnlyList<string> problems)
        : base(heading + ":" + Environment.NewLine + string.Join(Environment.NewLine, problems))
    {
        Problems = problems;
    }

    /// <summary>The problems, each starting with the key it is about.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>The process exit code for a configuration error.</summary>
    public const int ExitCode = 2;
}
