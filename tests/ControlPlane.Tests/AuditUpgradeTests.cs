using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Storage;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

/// <summary>A store from before keyed chains: its unkeyed events are given MACs once, and only where the old chain holds.</summary>
public sealed class AuditUpgradeTests
{
    private static List<AuditRow> LegacyChain(string orgId, string startPrev, int count)
    {
        var rows = new List<AuditRow>();
        var prev = startPrev;
        for (var i = 0; i < count; i++)
        {
            var r = new AuditRow
            {
                OrgId = orgId, Id = $"evt_{orgId}_{i}", Ts = 1000 + i, Event = "login_succeeded", UserId = "usr_1", Email = "a@b.test",
                Ip = "127.0.0.1", UserAgent = "ua <é>", Outcome = "success", Details = i % 2 == 0 ? null : "{\"reason\":\"x\"}", PrevHash = prev,
            };
            r.Hash = AuditLog.HashOf(r);
            prev = r.Hash;
            rows.Add(r);
        }
        return rows;
    }

    [Fact]
    public async Task Legacy_chains_are_keyed_at_upgrade_but_a_broken_one_stays_broken_and_nothing_is_keyed_later()
    {
        var dir = Path.Combine(Path.GetTempPath(), "authio-aud-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var cs = $"Data Source={Path.Combine(dir, "controlplane.db")};Pooling=false";
        try
        {
            await using (var c = new SqliteConnection(cs))
            {
                await c.OpenAsync();
                await c.ExecuteAsync("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
                foreach (var m in Schema.All.Where(m => m.Version < 11))
                {
                    if (!string.IsNullOrWhiteSpace(Schema.Sql(m, Dialect.Sqlite)))
                    {
                        await c.ExecuteAsync(Schema.Sql(m, Dialect.Sqlite));
                    }

                    await c.ExecuteAsync("INSERT INTO schema_migrations VALUES (@v, @n, '2026-01-01')", new { v = (long)m.Version, n = m.Name });
                }
                await c.ExecuteAsync("INSERT INTO orgs (id, name, created_at) VALUES ('org_old', 'Old', 0), ('org_pruned', 'Pruned', 1), ('org_bad', 'Bad', 2)");
                // org_pruned lost its head to the old retention: its oldest event links to a hash no longer stored.
                var rows = LegacyChain("org_old", AuditLog.Genesis, 4).Concat(LegacyChain("org_pruned", new string('a', 64), 3)).Concat(LegacyChain("org_bad", AuditLog.Genesis, 4)).ToList();
                rows.Single(r => r.Id == "evt_org_bad_2").Ip = "10.6.6.6"; // edited before the upgrade
                await c.ExecuteAsync("""
                    INSERT INTO audit_events (org_id, id, ts, event, actor_id, user_id, email, session_id, ip, user_agent, outcome, details, prev_hash, hash)
                    VALUES (@OrgId, @Id, @Ts, @Event, @ActorId, @UserId, @Email, @SessionId, @Ip, @UserAgent, @Outcome, @Details, @PrevHash, @Hash)
                    """, rows);
            }
            var app = ControlPlaneApp.Build(["--urls=http://127.0.0.1:0", "--ControlPlane:AdminUrls=http://127.0.0.1:0", $"--ControlPlane:DataDirectory={dir}"]);
            await using (app)
            {
                await ControlPlaneApp.PrepareAsync(app);
                var seals = app.Services.GetRequiredService<AuditSeals>();
                Assert.True((await seals.VerifyAsync("org_old", CancellationToken.None)).Ok);
                var pruned = await seals.VerifyAsync("org_pruned", CancellationToken.None);
                Assert.True(pruned.Ok, pruned.Reason);
                var bad = await seals.VerifyAsync("org_bad", CancellationToken.None);
                Assert.False(bad.Ok);
                Assert.Equal("evt_org_bad_2", bad.FirstBrokenEventId);

                // The oldest org became the operator org.
                await using var c = new SqliteConnection(cs);
                await c.OpenAsync();
                Assert.Equal("org_old", await c.ExecuteScalarAsync<string>("SELECT id FROM orgs WHERE is_operator = 1"));
                Assert.Equal(0L, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM audit_mac_backfill"));

                // Repairing the content later does not help: the events from the break on never get MACs.
                var original = LegacyChain("org_bad", AuditLog.Genesis, 4)[2];
                await c.ExecuteAsync("UPDATE audit_events SET ip = @Ip WHERE id = @Id", original);
                await ControlPlaneApp.PrepareAsync(app);
                var still = await seals.VerifyAsync("org_bad", CancellationToken.None);
                Assert.False(still.Ok);
                Assert.Contains("no MAC", still.Reason, StringComparison.Ordinal);
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_new_store_whose_bootstrap_events_are_keyed_reports_no_broken_chain()
    {
        var dir = Path.Combine(Path.GetTempPath(), "authio-aud-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var logs = new LogCapture();
        try
        {
            var app = ControlPlaneApp.Build(["--urls=http://127.0.0.1:0", "--ControlPlane:AdminUrls=http://127.0.0.1:0", $"--ControlPlane:DataDirectory={dir}",
                "--ControlPlane:Bootstrap:OrgName=Acme", "--ControlPlane:Bootstrap:AdminEmail=admin@acme.test",
                "--ControlPlane:Bootstrap:AdminPassword=Dev!passw0rd-long"], logs.Register);
            await using (app)
            {
                await ControlPlaneApp.PrepareAsync(app);
                var seals = app.Services.GetRequiredService<AuditSeals>();
                var orgId = await ScalarAsync(dir, "SELECT id FROM orgs WHERE name = 'Acme'");
                Assert.NotNull(orgId);
                Assert.True(await ScalarAsync(dir, "SELECT COUNT(*) FROM audit_events") is > 0L, "bootstrap wrote no audit event: the test proves nothing");
                Assert.True((await seals.VerifyAsync((string)orgId!, CancellationToken.None)).Ok);
            }
            Assert.DoesNotContain(logs.Lines, l => l.Contains("is broken at seq", StringComparison.Ordinal));
            Assert.DoesNotContain(logs.Lines, l => l.Contains("upgraded to keyed MACs", StringComparison.Ordinal));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<object?> ScalarAsync(string dir, string sql)
    {
        await using var c = new SqliteConnection($"Data Source={Path.Combine(dir, "controlplane.db")};Pooling=false");
        await c.OpenAsync();
        return await c.ExecuteScalarAsync(sql);
    }
}
