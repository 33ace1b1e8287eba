using Authio.EdgeProxy.Hosting;

try
{
    await using var edge = EdgeApp.Build(args);
    await edge.RunAsync();
    return 0;
}
catch (InvalidOperationException ex) when (ex.Message.StartsWith("Invalid edge configuration", StringComparison.Ordinal))
{
    // Misconfiguration stops start-up with the offending keys named, not a stack trace.
    Console.Error.WriteLine(ex.Message);
    return 2;
}
