using System.Net;
using System.Text.Json.Nodes;
using Authio.Shared.Errors;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task An_existing_and_an_unknown_email_are_indistinguishable_after_six_wrong_passwords()
    {
        var (_, known) = await F.CreateUserAsync();
        var unknown = $"nobody{Guid.NewGuid():N}@acme.test";
        for (var i = 1; i <= 6; i++)
        {
            using var a = await F.LoginAsync(known, "Wr0ng!pass");
            using var b = await F.LoginAsync(unknown, "Wr0ng!pass");
            Assert.Equal(a.StatusCode, b.StatusCode);
            Assert.Equal(i < 5 ? HttpStatusCode.Unauthorized : (HttpStatusCode)423, a.StatusCode);
            Assert.Equal(await ComparableAsync(a), await ComparableAsync(b));
        }
        // The right password is refused while locked, exactly like a guess at an unknown email.
        using var right = await F.LoginAsync(known, ControlPlaneFixture.DefaultPassword);
        using var guess = await F.LoginAsync(unknown, ControlPlaneFixture.DefaultPassword);
        Assert.Equal((HttpStatusCode)423, right.StatusCode);
        Assert.Equal(await ComparableAsync(right), await ComparableAsync(guess));
        await right.ProblemAsync((HttpStatusCode)423, ErrorCodes.AccountLocked);

        // Nothing in the lockout table names the email.
        Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM login_failures WHERE email_key LIKE '%@%'"));
        F.Time.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(1));
        await F.LoginOkAsync(known, ControlPlaneFixture.DefaultPassword);

        // The table only holds recent failures: the maintenance job drops the unknown email's stale row (a success
        // already removed the account's).
        var keys = F.Services.GetRequiredService<Authio.ControlPlane.Auth.LoginFailures>();
        const string count = "SELECT COUNT(*) FROM login_failures WHERE email_key = @key";
        Assert.Equal(0L, await F.InspectAsync<long>(count, new { key = keys.KeyOf(known) }));
        Assert.Equal(1L, await F.InspectAsync<long>(count, new { key = keys.KeyOf(unknown) }));
        await F.Services.GetRequiredService<Authio.ControlPlane.Hosting.MaintenanceService>().RunOnceAsync(CancellationToken.None);
        Assert.Equal(0L, await F.InspectAsync<long>(count, new { key = keys.KeyOf(unknown) }));
    }

    /// <summary>Status, headers (but Date) and body (but the per-request trace id), as one string.</summary>
    private static async Task<string> ComparableAsync(HttpResponseMessage r)
    {
        var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!.AsObject();
        body.Remove("traceId");
        var headers = r.Headers.Concat(r.Content.Headers).Where(h => h.Key != "Date")
            .OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => h.Key + ": " + string.Join(",", h.Value));
        return (int)r.StatusCode + "\n" + string.Join("\n", headers) + "\n" + body.ToJsonString();
    }

    [SuiteFact]
    public async Task An_email_over_320_bytes_is_refused_before_any_work()
    {
        var email = new string('é', 160) + "@acme.test"; // 170 characters, 330 UTF-8 bytes
        var problem = await (await F.LoginAsync(email, "Wr0ng!pass")).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.NotNull(problem["errors"]!["email"]);
        Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_events WHERE email LIKE @e", new { e = new string('é', 160) + "%" }));
        // 320 bytes exactly is a (wrong) sign-in like any other.
        await (await F.LoginAsync(new string('a', 310) + "@acme.test", "Wr0ng!pass")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
    }
}
