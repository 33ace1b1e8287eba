using Authio.EdgeProxy.Hosting;
using Authio.Shared.Configuration;

try
{
    await using var edge = EdgeApp.Build(args);
    await edge.RunAsync();
    return 0;
}
catch (ConfigurationException ex)
{
    // Misconfiguration stops start-up with the offending keys named, not a stack trace.
    Console.Error.WriteLine(ex.Message);
    return ConfigurationException.ExitCode;
}
