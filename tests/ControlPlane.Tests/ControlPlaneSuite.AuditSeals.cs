using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    /// <summary>A fresh org (so tampering here never disturbs other tests) with a dozen events and a mod token.</summary>
    private async Task<(string OrgId, Tokens Mod)> AuditOrgAsync()
    {
        // A mod of the operator org founds it (the bootstrap admin must stay in one org: other tests sign in without org_id).
        var (_, founder) = await F.CreateUserAsync("mod", await F.AdminAsync());
        var founderHome = await F.LoginOkAsync(founder, ControlPlaneFixture.DefaultPassword);
        var orgId = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/orgs", founderHome.Access, new { name = "Audit " + Guid.NewGuid().ToString("N")[..8] }))
            .BodyAsync(HttpStatusCode.Created))["id"]!;
        var mod = await F.LoginOkAsync(founder, ControlPlaneFixture.DefaultPassword, orgId);
        for (var i = 0; i < 3; i++)
        {
            // Characters the canonical JSON escapes, so the offline script's encoding is exercised too.
            await (await F.SendAsync(HttpMethod.Post, "/v1/teams", mod.Access, new { name = $"Tëam <{i}> & 'q' \"x\" +`" })).BodyAsync(HttpStatusCode.Created);
            await F.LoginOkAsync(founder, ControlPlaneFixture.DefaultPassword, orgId);
        }
        return (orgId, mod);
    }

    private AuditSeals Seals => F.Services.GetRequiredService<AuditSeals>();

    private async Task<JsonNode> VerifyAuditAsync(Tokens mod) =>
        await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/verify", mod.Access)).BodyAsync(HttpStatusCode.OK);

    private async Task<List<AuditRow>> ChainAsync(string orgId)
    {
        await using var c = await F.OpenInspectorAsync();
        return (await Dapper.SqlMapper.QueryAsync<AuditRow>(c, "SELECT * FROM audit_events WHERE org_id = @orgId ORDER BY seq", new { orgId })).ToList();
    }

    private static void AssertBroken(JsonNode verify, long seq, string reason)
    {
        Assert.False((bool)verify["ok"]!, verify.ToJsonString());
        Assert.Equal(seq, (long)verify["firstBrokenSeq"]!);
        Assert.Contains(reason, (string)verify["reason"]!, StringComparison.Ordinal);
    }

    [SuiteFact]
    public async Task Audit_chain_is_keyed_and_verify_fails_on_an_edited_row()
    {
        var (orgId, mod) = await AuditOrgAsync();
        Assert.True((bool)(await VerifyAuditAsync(mod))["ok"]!);
        var rows = await ChainAsync(orgId);
        Assert.All(rows, r => Assert.Matches("^[0-9a-f]{64}$", r.Mac!));
        var victim = rows[3];
        Assert.Equal(1, await F.ExecuteAsync("UPDATE audit_events SET ip = '10.6.6.6' WHERE id = @Id", victim));
        var verify = await VerifyAuditAsync(mod);
        AssertBroken(verify, victim.Seq, "content does not match its hash");
        Assert.Equal(victim.Id, (string?)verify["firstBrokenEventId"]);
    }

    [SuiteFact]
    public async Task Audit_verify_fails_on_a_tail_rehashed_without_the_chain_key()
    {
        foreach (var wrongKey in new byte[]?[] { null, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32) })
        {
            var (orgId, mod) = await AuditOrgAsync();
            var rows = await ChainAsync(orgId);
            // The attacker edits a row and recomputes every hash after it (the chain hash is public), and the MACs
            // with a key of their own (or leaves the old ones): without the master key the MACs cannot match.
            var prev = rows[2].Hash;
            for (var i = 3; i < rows.Count; i++)
            {
                var r = rows[i];
                if (i == 3)
                {
                    r.Ip = "10.6.6.6";
                }

                r.PrevHash = prev;
                r.Hash = AuditLog.HashOf(r);
                if (wrongKey is not null)
                {
                    r.Mac = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(wrongKey, System.Text.Encoding.UTF8.GetBytes(r.Hash)));
                }

                Assert.Equal(1, await F.ExecuteAsync("UPDATE audit_events SET ip = @Ip, prev_hash = @PrevHash, hash = @Hash, mac = @Mac WHERE id = @Id", r));
                prev = r.Hash;
            }
            AssertBroken(await VerifyAuditAsync(mod), rows[3].Seq, "MAC does not verify");
        }
    }

    [SuiteFact]
    public async Task Audit_verify_fails_when_events_are_cut_from_the_head()
    {
        var (orgId, mod) = await AuditOrgAsync();
        var rows = await ChainAsync(orgId);
        Assert.Equal(2, await F.ExecuteAsync("DELETE FROM audit_events WHERE seq IN (@a, @b)", new { a = rows[0].Seq, b = rows[1].Seq }));
        AssertBroken(await VerifyAuditAsync(mod), rows[2].Seq, "events removed from the head");
    }

    [SuiteFact]
    public async Task Audit_verify_fails_when_events_are_cut_from_the_tail_or_a_checkpointed_event_is_missing()
    {
        var (orgId, mod) = await AuditOrgAsync();
        // The maintenance job checkpoints every org whose head moved; on demand, nothing new to checkpoint then.
        await F.Services.GetRequiredService<Authio.ControlPlane.Hosting.MaintenanceService>().RunOnceAsync(CancellationToken.None);
        Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_seals WHERE org_id = @orgId AND kind = 'checkpoint'", new { orgId }));
        Assert.False(await Seals.CheckpointAsync(orgId, CancellationToken.None));
        var rows = await ChainAsync(orgId);
        var verify = await VerifyAuditAsync(mod);
        Assert.True((bool)verify["ok"]!, verify.ToJsonString());
        Assert.Equal(rows[^1].Seq, (long)verify["checkpointSeq"]!);

        Assert.Equal(2, await F.ExecuteAsync("DELETE FROM audit_events WHERE seq IN (@a, @b)", new { a = rows[^1].Seq, b = rows[^2].Seq }));
        AssertBroken(await VerifyAuditAsync(mod), rows[^1].Seq, "events removed from the tail");

        // A checkpoint signed with a key that is not the control plane's does not count as one.
        Assert.Equal(1, await F.ExecuteAsync("UPDATE audit_seals SET jws = @jws WHERE org_id = @orgId",
            new { orgId, jws = "eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vcGUifQ.e30.AAAA" }));
        AssertBroken(await VerifyAuditAsync(mod), rows[^1].Seq, "does not verify");
    }

    [SuiteFact]
    public async Task Audit_retention_writes_a_signed_cut_and_verify_tells_it_from_deletion()
    {
        var (orgId, mod) = await AuditOrgAsync();
        await Seals.CheckpointAsync(orgId, CancellationToken.None);
        var rows = await ChainAsync(orgId);
        var founder = rows.Last(r => r.Event == "login_succeeded").Email!;
        var removed = await Seals.CutAsync(orgId, rows[4].Ts + 1, CancellationToken.None);
        Assert.True(removed >= 5);
        var left = await ChainAsync(orgId);
        Assert.Equal(rows.Count - removed, left.Count);
        var verify = await VerifyAuditAsync(mod);
        Assert.True((bool)verify["ok"]!, verify.ToJsonString());
        Assert.Equal(left[0].Seq, (long)verify["retainedFromSeq"]!);

        // New events continue the chain; another checkpoint counts the removed ones too.
        await F.LoginOkAsync(founder, ControlPlaneFixture.DefaultPassword, orgId);
        Assert.True(await Seals.CheckpointAsync(orgId, CancellationToken.None));
        Assert.True((bool)(await VerifyAuditAsync(mod))["ok"]!);

        // Exported with its seals, the chain verifies offline with the published JWKS, and a tampered export does not.
        var export = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/export", mod.Access)).Content.ReadAsStringAsync();
        Assert.Contains("\"seal\":\"cut\"", export, StringComparison.Ordinal);
        Assert.Contains("\"seal\":\"checkpoint\"", export, StringComparison.Ordinal);
        var jwks = await F.Http.GetStringAsync("/.well-known/jwks.json");
        if (OfflineVerify(export, jwks) is { } ok)
        {
            Assert.True(ok.Code == 0, ok.Output);
            var tampered = export.Replace("\"ipAddress\":\"127.0.0.1\"", "\"ipAddress\":\"10.6.6.6\"", StringComparison.Ordinal);
            Assert.NotEqual(export, tampered);
            Assert.Equal(1, OfflineVerify(tampered, jwks)!.Value.Code);
            var lines = export.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(1, OfflineVerify(string.Join('\n', lines.Take(lines.Length - 1)), jwks)!.Value.Code); // tail cut

            // One seal with openssl alone (needs bash, openssl, jq, xxd, basenc).
            var jws = (string)JsonNode.Parse(lines.First(l => l.Contains("\"seal\":\"checkpoint\"", StringComparison.Ordinal)))!["jws"]!;
            if (RunDocsScript("bash", "audit-verify-seal.sh", [jws], jwks) is { } seal)
            {
                Assert.True(seal.Code == 0, seal.Output);
                Assert.Contains("authio-audit-checkpoint", seal.Output, StringComparison.Ordinal);
                var parts = jws.Split('.');
                var forged = parts[0] + "." + Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(
                    Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(parts[1]).Replace("\"count\":", "\"count\":1", StringComparison.Ordinal)) + "." + parts[2];
                Assert.NotEqual(0, RunDocsScript("bash", "audit-verify-seal.sh", [forged], jwks)!.Value.Code);
            }
        }

        // Deleting further head events is not retention: no signed cut covers them.
        Assert.Equal(1, await F.ExecuteAsync("DELETE FROM audit_events WHERE seq = @Seq", left[0]));
        AssertBroken(await VerifyAuditAsync(mod), left[1].Seq, "events removed from the head");
    }

    /// <summary>Runs docs/audit-verify.py on an export; null when python3 is not installed.</summary>
    private static (int Code, string Output)? OfflineVerify(string export, string jwks) =>
        RunDocsScript("python3", "audit-verify.py", [], jwks, export);

    /// <summary>
    /// Runs a script of docs/ with <paramref name="interpreter"/>: arguments, then (when given) the export file, then the
    /// JWKS file. Null when the interpreter or the repository's docs are not there.
    /// </summary>
    private static (int Code, string Output)? RunDocsScript(string interpreter, string script, string[] args, string jwks, string? export = null)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "docs", script)))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            return null;
        }

        var dir = Directory.CreateTempSubdirectory("authio-audit-");
        try
        {
            var start = new ProcessStartInfo(interpreter) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(root.FullName, "docs", script));
            foreach (var a in args)
            {
                start.ArgumentList.Add(a);
            }

            if (export is not null)
            {
                File.WriteAllText(Path.Combine(dir.FullName, "export.ndjson"), export);
                start.ArgumentList.Add(Path.Combine(dir.FullName, "export.ndjson"));
            }
            File.WriteAllText(Path.Combine(dir.FullName, "jwks.json"), jwks);
            start.ArgumentList.Add(Path.Combine(dir.FullName, "jwks.json"));
            Process p;
            try
            {
                p = Process.Start(start)!;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return null;
            }
            using (p)
            {
                var stdout = p.StandardOutput.ReadToEndAsync();
                var stderr = p.StandardError.ReadToEnd();
                p.WaitForExit();
                return (p.ExitCode, stdout.Result + stderr);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
