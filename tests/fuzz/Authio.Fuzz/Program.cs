using Authio.Fuzz;
using SharpFuzz;

// Usage: Authio.Fuzz <target>                 under afl-fuzz (tests/fuzz/run.sh instruments and starts it)
//        Authio.Fuzz <target> --replay <path>… each file (or every file of each folder) once, without the fuzzer:
//                                              exit 1 and the exception for the first input that fails
//        Authio.Fuzz --seed <corpus-dir>         writes the committed seeds (the unit tests' cases)
//        Authio.Fuzz --seed-wycheproof <dir> <vectors-dir>  writes Wycheproof-derived seeds (never committed)
if (args is ["--seed", var corpus])
{
    CorpusSeeds.WriteProject(corpus);
    return 0;
}
if (args is ["--seed-wycheproof", var into, var vectors])
{
    if (!CorpusSeeds.WriteWycheproof(into, vectors))
    {
        Console.Error.WriteLine($"Wycheproof vectors not found in {vectors}: fuzzing from the committed corpus only");
    }
    return 0;
}
if (args.Length == 0 || !FuzzTargets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: Authio.Fuzz <{string.Join('|', FuzzTargets.All.Keys)}> [--replay <file|dir>…]");
    return 2;
}
if (args.Length > 1 && args[1] == "--replay")
{
    TraceMemory.MapWhenAbsent();
    var files = args[2..].SelectMany(path => Directory.Exists(path) ? Directory.GetFiles(path) : File.Exists(path) ? [path] : []).Order(StringComparer.Ordinal).ToArray();
    foreach (var file in files)
    {
        try
        {
            target(File.ReadAllBytes(file));
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"{file}: {ex}");
            return 1;
        }
    }
    Console.WriteLine($"{args[0]}: {files.Length} inputs replayed, none failed");
    return 0;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;

/// <summary>
/// Instrumented assemblies record coverage in SharpFuzz's trace memory, which afl-fuzz maps; a replay outside the fuzzer
/// (run.sh replaying its crashes) gives them a private buffer instead, so the same instrumented build runs anywhere.
/// </summary>
internal static class TraceMemory
{
    public static unsafe void MapWhenAbsent()
    {
        if (SharpFuzz.Common.Trace.SharedMem == null)
        {
            SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
        }
    }
}
