using BenchmarkDotNet.Running;

namespace Authio.Edge.Benchmarks;

public static class Program
{
    public static void Main(string[] args)
    {
        // `alloc`: per-call allocation probe (no BenchmarkDotNet), to pin an allocation to a step.
        if (args is ["alloc", ..])
        {
            AllocationProbe.Run();
            return;
        }

        // `memory [N]`: bytes retained per cached token, API key, revocation id and rate-limit key (bench/README.md).
        if (args is ["memory", ..])
        {
            MemoryProbe.Run(args);
            return;
        }

        // `negative-probe`: expired-token replay vs full validation, contention-robust (min/median of short batches).
        if (args is ["negative-probe", ..])
        {
            Authentication.NegativeCacheBenchmarks.Probe();
            return;
        }

        // Everything else goes to BenchmarkDotNet, e.g.:  --filter '*' --job short   (see bench/README.md)
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
