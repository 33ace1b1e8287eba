using Authio.ControlPlane.Hosting;
using Authio.Shared.Configuration;

try
{
    await using var app = ControlPlaneApp.Build(args);
    await ControlPlaneApp.PrepareAsync(app);
    // An API address that cannot be bound is a configuration error like the rest (the admin listener names its own).
    await ListenerStart.RunAsync("Urls", () => app.StartAsync());
    await app.WaitForShutdownAsync();
    return 0;
}
catch (ConfigurationException ex)
{
    // Bad configuration: one clear line naming the key, no stack trace.
    await Console.Error.WriteLineAsync(ex.Message);
    return ConfigurationException.ExitCode;
}
