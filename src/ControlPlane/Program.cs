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
