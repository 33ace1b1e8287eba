using System.Diagnostics;
using Authio.ControlPlane.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

/// <summary>Several instances on one database run each maintenance round once between them, and take over from each other.</summary>
public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task Two_instances_with_jobs_run_each_maintenance_round_once_between_them()
    {
        string[] jobs = ["--ControlPlane:Jobs:Enabled=true", "--ControlPlane:Jobs:Interval=00:01:00"];
        var a = await F.StartAnotherInstanceAsync(jobs);
        var b = await F.StartAnotherInstanceAsync(jobs);
        var apps = new List<(Microsoft.AspNetCore.Builder.WebApplication App, HttpClient Http)> { a, b };
        try
        {
            MaintenanceService Jobs((Microsoft.AspNetCore.Builder.WebApplication App, HttpClient Http) i) => i.App.Services.GetRequiredService<MaintenanceService>();
            long Decided() => apps.Sum(i => Jobs(i).RoundsRun + Jobs(i).RoundsSkipped);
            async Task NextRoundAsync(long decided)
            {
                F.Time.Advance(TimeSpan.FromMinutes(1));
                var clock = Stopwatch.StartNew();
                while (Decided() < decided && clock.Elapsed < TimeSpan.FromSeconds(30))
                {
                    await Task.Delay(20);
                }
                Assert.True(Decided() >= decided, $"the instances decided {Decided()} of {decided} rounds");
            }

            // A hosted service starts its loop on a thread of its own: wait until both timers run (each decided a round).
            var warm = Stopwatch.StartNew();
            while (apps.Any(i => Jobs(i).RoundsRun + Jobs(i).RoundsSkipped == 0))
            {
                Assert.True(warm.Elapsed < TimeSpan.FromSeconds(30), "an instance's maintenance timer never ran");
                F.Time.Advance(TimeSpan.FromMinutes(1));
                await Task.Delay(200);
            }
            var ranBefore = Jobs(a).RoundsRun + Jobs(b).RoundsRun;
            var skippedBefore = Jobs(a).RoundsSkipped + Jobs(b).RoundsSkipped;

            for (var round = 1; round <= 4; round++)
            {
                await NextRoundAsync(ranBefore + skippedBefore + (2 * round));
            }
            // Four intervals: four rounds ran in all, each on exactly one instance.
            Assert.Equal(4, Jobs(a).RoundsRun + Jobs(b).RoundsRun - ranBefore);
            Assert.Equal(4, Jobs(a).RoundsSkipped + Jobs(b).RoundsSkipped - skippedBefore);

            // The instance that ran them stops: the other one runs the next rounds.
            var (winner, other) = Jobs(a).RoundsRun >= Jobs(b).RoundsRun ? (a, b) : (b, a);
            apps.Remove(winner);
            await winner.App.StopAsync();
            var before = Jobs(other).RoundsRun;
            var decidedBefore = Decided();
            await NextRoundAsync(decidedBefore + 1);
            await NextRoundAsync(decidedBefore + 2);
            Assert.True(Jobs(other).RoundsRun >= before + 1, "the remaining instance never took the rounds over");
            winner.Http.Dispose();
            await winner.App.DisposeAsync();
        }
        finally
        {
            foreach (var (app, http) in apps)
            {
                http.Dispose();
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }
    }
}
