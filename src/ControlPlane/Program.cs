using Authio.ControlPlane.Hosting;
using Authio.Shared.Configuration;

try
{
    var app = ControlPlaneApp.Build(args);
    await ControlPlaneApp.PrepareAsync(app);
    await app.RunAsync();
    return 0;
}
catch (ConfigurationException ex)
{
    // Bad configuration: one clear line naming the key, no stack trace.
    await Console.Error.WriteLineAsync(ex.Message);
    return ConfigurationException.ExitCode;
}
catch (Exception ex) when (ListenerStart.Describe(ex) is { } problem)
{
    // An address the API listener cannot bind (taken, or not ours to open) is a configuration problem too.
    await Console.Error.WriteLineAsync(new ConfigurationException("Urls", problem).Message);
    return ConfigurationException.ExitCode;
}
