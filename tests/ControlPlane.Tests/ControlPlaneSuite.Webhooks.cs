using System.Net;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Webhooks;
using Authio.Shared.Errors;
using Authio.Shared.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    /// <summary>A fresh org (its events disturb no other test) founded by a new mod of the admin's org; its id, a mod token and the mod's email.</summary>
    private async Task<(string OrgId, Tokens Mod, string Email)> WebhookOrgAsync()
    {
        var (_, email) = await F.CreateUserAsync("mod", await F.AdminAsync());
        var home = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var orgId = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/orgs", home.Access, new { name = "Hooks " + Guid.NewGuid().ToString("N")[..8] }))
            .BodyAsync(HttpStatusCode.Created))["id"]!;
        return (orgId, await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgId), email);
    }

    private async Task<(string Id, string Secret)> CreateWebhookAsync(string access, string url, params string[] events)
    {
        var created = await (await F.SendAsync(HttpMethod.Post, "/v1/webhooks", access, new { url, events })).BodyAsync(HttpStatusCode.Created);
        return ((string)created["id"]!, (string)created["secret"]!);
    }

    private async Task<string> CreateOrgUserAsync(string access, string role = "explore")
    {
        var email = $"u{Guid.NewGuid():N}@acme.test";
        await (await F.SendAsync(HttpMethod.Post, "/v1/users", access, new { email, password = ControlPlaneFixture.DefaultPassword, role }))
            .BodyAsync(HttpStatusCode.Created);
        return email;
    }

    private bool Verifies(ReceivedWebhook r, string secret) => WebhookSignature.Verify(r.Signature, r.Body, secret, F.Time.GetUtcNow());

    [SuiteFact]
    public async Task A_receiver_gets_signed_deliveries_for_sign_in_session_end_and_key_creation()
    {
        var (orgId, mod, _) = await WebhookOrgAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var (hookId, secret) = await CreateWebhookAsync(mod.Access, receiver.Url, "login_succeeded", "logout", "api_key_created");
        Assert.StartsWith("whsec_", secret);
        // The secret is shown once: never again in a read.
        var read = await (await F.SendAsync(HttpMethod.Get, $"/v1/webhooks/{hookId}", mod.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Null(read["secret"]);
        Assert.DoesNotContain(secret, (await (await F.SendAsync(HttpMethod.Get, "/v1/webhooks", mod.Access)).Content.ReadAsStringAsync()));

        var email = await CreateOrgUserAsync(mod.Access);
        var user = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgId);
        Assert.Equal(HttpStatusCode.NoContent, (await F.SendAsync(HttpMethod.Post, "/v1/auth/logout", user.Access)).StatusCode);
        var key = await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", mod.Access, new { name = "hooked", scopes = new[] { "read:leads" }, environment = "live" }))
            .BodyAsync(HttpStatusCode.Created);

        Assert.True(await receiver.WaitAsync(r => r.Received.Count >= 3, F.Time, TimeSpan.FromMilliseconds(200)),
            $"deliveries: {receiver.Received.Count}");
        var byType = receiver.Received.ToDictionary(r => (string)r.Json["type"]!);
        Assert.Equal(["api_key_created", "login_succeeded", "logout"], byType.Keys.Order());
        foreach (var r in receiver.Received)
        {
            Assert.True(Verifies(r, secret), "signature of " + r.Json["type"]);
            Assert.False(WebhookSignature.Verify(r.Signature, r.Body, "whsec_wrong", F.Time.GetUtcNow()));
            Assert.Equal(r.EventId, (string)r.Json["id"]!);
            Assert.Equal(1, (int)r.Json["version"]!);
            Assert.Equal(orgId, (string)r.Json["org_id"]!);
            // A delivery replayed after the 5-minute tolerance no longer verifies.
            Assert.False(WebhookSignature.Verify(r.Signature, r.Body, secret, F.Time.GetUtcNow().AddMinutes(6)));
        }
        Assert.Equal(email, (string)byType["login_succeeded"].Json["data"]!["email"]!);
        Assert.Equal((string)byType["login_succeeded"].Json["data"]!["session_id"]!, (string)byType["logout"].Json["data"]!["session_id"]!);
        Assert.Equal((string)key["id"]!, (string)byType["api_key_created"].Json["data"]!["details"]!["key_id"]!);
        // The event ids are the audit events' ids.
        var audited = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?event=logout", mod.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal((string)audited["items"]![0]!["id"]!, byType["logout"].EventId);

        // The delivery log: each delivered once, with status and response time.
        var log = await SettledDeliveriesAsync(mod.Access, hookId);
        Assert.Equal(3, log.Count);
        Assert.All(log, d =>
        {
            Assert.Equal("delivered", (string)d!["state"]!);
            Assert.Equal(200, (int)d["last_status"]!);
            Assert.True((long)d["last_response_ms"]! >= 0);
            Assert.Equal(1, (long)d["attempts"]!);
        });

        // Erasing a person removes the deliveries that name them (sign-in and logout here), and nothing else.
        var userId = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(user.Access).Subject;
        var db = F.Services.GetRequiredService<Authio.ControlPlane.Storage.Db>();
        Assert.Equal(2, await db.InOrgAsync(orgId, (c, tx) => WebhookStore.DeleteDeliveriesNamingAsync(c, tx, orgId, userId)));
        Assert.Single(await SettledDeliveriesAsync(mod.Access, hookId));
        Assert.Equal(HttpStatusCode.NoContent, (await F.SendAsync(HttpMethod.Delete, $"/v1/webhooks/{hookId}", mod.Access)).StatusCode);
    }

    [SuiteFact]
    public async Task A_receiver_failing_five_times_then_succeeding_gets_each_event_exactly_once()
    {
        var (orgId, mod, email) = await WebhookOrgAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = n => n <= 5 ? 500 : 200;
        var (hookId, secret) = await CreateWebhookAsync(mod.Access, receiver.Url, "user_created");
        for (var i = 0; i < 3; i++)
        {
            await CreateOrgUserAsync(mod.Access);
        }

        // Backoff (and the circuit the fifth failure opens) run on the suite's clock: moving it on brings retries due.
        Assert.True(await receiver.WaitAsync(r => r.Acknowledged.Count() >= 3, F.Time, TimeSpan.FromSeconds(5)),
            $"acknowledged {receiver.Acknowledged.Count()} of 3 after {receiver.Received.Count} requests");
        Assert.All(receiver.Acknowledged, r => Assert.True(Verifies(r, secret)));
        // Later retries would show up now: there are none.
        for (var i = 0; i < 20; i++)
        {
            F.Time.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(20);
        }

        var all = receiver.Received.ToList();
        Assert.Equal(5, all.Count(r => r.Answered == 500));
        var acked = receiver.Acknowledged.Select(r => r.EventId!).ToList();
        Assert.Equal(3, acked.Count);
        Assert.Equal(3, acked.Distinct().Count());
        // Retries carry the same event id (the receiver's idempotency key).
        Assert.All(all, r => Assert.Contains(r.EventId, acked));
        mod = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgId);
        var log = await SettledDeliveriesAsync(mod.Access, hookId);
        Assert.All(log, d => Assert.Equal("delivered", (string)d!["state"]!));
        Assert.Equal(8, log.Sum(d => (long)d!["attempts"]!));
        // Attempts are counted by outcome (dead-lettering exported at 0 from start).
        using (var admin = AdminHttp())
        {
            var text = await ScrapeUntilAsync(admin, t => HasSeries(t, "authio_controlplane_webhook_deliveries_total", "outcome=\"failed\""));
            foreach (var outcome in new[] { "delivered", "failed", "dead" })
            {
                Assert.True(HasSeries(text, "authio_controlplane_webhook_deliveries_total", $"outcome=\"{outcome}\""), outcome + "\n" + text);
            }
        }

        // No secret is ever logged.
        Assert.DoesNotContain(F.Logs.Lines, l => l.Contains(secret, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NoContent, (await F.SendAsync(HttpMethod.Delete, $"/v1/webhooks/{hookId}", mod.Access)).StatusCode);
    }

    [SuiteFact]
    public async Task A_rotated_secret_signs_beside_the_old_one_during_the_overlap_only()
    {
        var (orgId, mod, email) = await WebhookOrgAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var (hookId, oldSecret) = await CreateWebhookAsync(mod.Access, receiver.Url, "user_created");
        var rotated = await (await F.SendAsync(HttpMethod.Post, $"/v1/webhooks/{hookId}/rotate-secret", mod.Access, new { overlap_seconds = 3600 }))
            .BodyAsync(HttpStatusCode.OK);
        var newSecret = (string)rotated["secret"]!;
        Assert.NotEqual(oldSecret, newSecret);
        Assert.NotNull(rotated["previous_secret_valid_until"]);

        await CreateOrgUserAsync(mod.Access);
        Assert.True(await receiver.WaitAsync(r => r.Received.Count >= 1, F.Time, TimeSpan.FromMilliseconds(200)));
        var during = receiver.Received.Single();
        Assert.Equal(2, during.Signature!.Split(',').Count(p => p.StartsWith("v1=", StringComparison.Ordinal)));
        Assert.True(Verifies(during, newSecret));
        Assert.True(Verifies(during, oldSecret));

        F.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        mod = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgId);
        await CreateOrgUserAsync(mod.Access);
        Assert.True(await receiver.WaitAsync(r => r.Received.Count >= 2, F.Time, TimeSpan.FromMilliseconds(200)));
        var after = receiver.Received.Last();
        Assert.Single(after.Signature!.Split(','), p => p.StartsWith("v1=", StringComparison.Ordinal));
        Assert.True(Verifies(after, newSecret));
        Assert.False(Verifies(after, oldSecret));
        Assert.Equal(HttpStatusCode.NoContent, (await F.SendAsync(HttpMethod.Delete, $"/v1/webhooks/{hookId}", mod.Access)).StatusCode);
    }

    [SuiteFact]
    public async Task One_org_never_sees_changes_or_receives_another_orgs_webhooks_and_events()
    {
        var (orgA, modA, _) = await WebhookOrgAsync();
        var (orgB, modB, _) = await WebhookOrgAsync();
        await using var receiverA = await WebhookReceiver.StartAsync();
        await using var receiverB = await WebhookReceiver.StartAsync();
        var (hookA, _) = await CreateWebhookAsync(modA.Access, receiverA.Url, "*");
        var (hookB, _) = await CreateWebhookAsync(modB.Access, receiverB.Url, "*");

        await CreateOrgUserAsync(modA.Access);
        await CreateOrgUserAsync(modB.Access);
        Assert.True(await receiverA.WaitAsync(r => r.Received.Any(x => (string?)x.Json["type"] == "user_created"), F.Time, TimeSpan.FromMilliseconds(200)));
        Assert.True(await receiverB.WaitAsync(r => r.Received.Any(x => (string?)x.Json["type"] == "user_created"), F.Time, TimeSpan.FromMilliseconds(200)));
        Assert.All(receiverA.Received, r => Assert.Equal(orgA, (string)r.Json["org_id"]!));
        Assert.All(receiverB.Received, r => Assert.Equal(orgB, (string)r.Json["org_id"]!));

        // B's mod cannot list, read, change, rotate, delete or redeliver A's webhook: it does not exist for B.
        var listB = (await (await F.SendAsync(HttpMethod.Get, "/v1/webhooks", modB.Access)).BodyAsync(HttpStatusCode.OK)).AsArray();
        Assert.Equal([hookB], listB.Select(w => (string)w!["id"]!));
        var deliveryA = (string)(await (await F.SendAsync(HttpMethod.Get, $"/v1/webhooks/{hookA}/deliveries", modA.Access)).BodyAsync(HttpStatusCode.OK))
            .AsArray()[0]!["id"]!;
        await (await F.SendAsync(HttpMethod.Get, $"/v1/webhooks/{hookA}", modB.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Patch, $"/v1/webhooks/{hookA}", modB.Access, new { enabled = false })).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Post, $"/v1/webhooks/{hookA}/rotate-secret", modB.Access, new { })).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Get, $"/v1/webhooks/{hookA}/deliveries", modB.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Post, $"/v1/webhooks/{hookA}/deliveries/{deliveryA}/redeliver", modB.Access))
            .ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Post, $"/v1/webhooks/{hookB}/deliveries/{deliveryA}/redeliver", modB.Access))
            .ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Delete, $"/v1/webhooks/{hookA}", modB.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        var stillA = await (await F.SendAsync(HttpMethod.Get, $"/v1/webhooks/{hookA}", modA.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)stillA["enabled"]!);

        // Members who are not mods see no webhooks at all (they carry the org's events, emails and addresses).
        var explorer = await F.LoginOkAsync(await CreateOrgUserAsync(modA.Access), ControlPlaneFixture.DefaultPassword, orgA);
        await (await F.SendAsync(HttpMethod.Get, "/v1/webhooks", explorer.Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await F.SendAsync(HttpMethod.Post, "/v1/webhooks", explorer.Access, new { url = receiverA.Url })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);

        // Redelivery: the same event id and body again, to A only.
        var again = await (await F.SendAsync(HttpMethod.Post, $"/v1/webhooks/{hookA}/deliveries/{deliveryA}/redeliver", modA.Access)).BodyAsync(HttpStatusCode.Accepted);
        Assert.NotEqual(deliveryA, (string)again["id"]!);
        var eventId = (string)again["event_id"]!;
        Assert.True(await receiverA.WaitAsync(r => r.Received.Count(x => x.EventId == eventId) >= 2, F.Time, TimeSpan.FromMilliseconds(200)));
        // The same bytes both times (each signed anew).
        Assert.Single(receiverA.Received.Where(r => r.EventId == eventId).Select(r => Convert.ToBase64String(r.Body)).Distinct());
        Assert.All(receiverB.Received, r => Assert.Equal(orgB, (string)r.Json["org_id"]!));

        // In the database, each org's rows carry its own org id; on PostgreSQL, RLS holds them there.
        Assert.Equal(0L, await F.InspectAsync<long>(
            "SELECT COUNT(*) FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.org_id <> w.org_id"));
        if (F is PostgresFixture pg)
        {
            await using var app = await pg.OpenAsAppAsync();
            Assert.Equal(0L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(app, "SELECT COUNT(*) FROM webhooks"));
            Assert.Equal(0L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(app, "SELECT COUNT(*) FROM webhook_deliveries"));
            await using (var tx = await app.BeginTransactionAsync())
            {
                await Dapper.SqlMapper.ExecuteAsync(app, "SELECT set_config('app.org_id', @orgB, true)", new { orgB }, tx);
                Assert.Equal(0L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(app,
                    "SELECT COUNT(*) FROM webhook_deliveries WHERE org_id = @orgA OR webhook_id = @hookA", new { orgA, hookA }, tx));
                Assert.Equal(0, await Dapper.SqlMapper.ExecuteAsync(app, "UPDATE webhooks SET url = 'http://127.0.0.1:1/' WHERE id = @hookA", new { hookA }, tx));
                await Assert.ThrowsAsync<Npgsql.PostgresException>(() => Dapper.SqlMapper.ExecuteAsync(app, """
                    INSERT INTO webhook_deliveries (org_id, id, webhook_id, event_id, event, payload, state, created_at, next_attempt_at)
                    VALUES (@orgA, 'whd_x', @hookA, 'evt_x', 'user_created', '{}', 'pending', 0, 0)
                    """, new { orgA, hookA }, tx));
            }
            Assert.False(await Dapper.SqlMapper.ExecuteScalarAsync<bool>(app,
                "SELECT has_function_privilege('public', 'authio_webhook_claim(bigint, bigint, bigint, bigint, text[])', 'EXECUTE')"));
        }
        foreach (var (access, hook) in new[] { (modA.Access, hookA), (modB.Access, hookB) })
        {
            Assert.Equal(HttpStatusCode.NoContent, (await F.SendAsync(HttpMethod.Delete, $"/v1/webhooks/{hook}", access)).StatusCode);
        }
    }

    [SuiteFact]
    public async Task Webhook_input_is_checked_and_the_outbox_keeps_deliveries_across_a_restart()
    {
        var (orgId, mod, _) = await WebhookOrgAsync();
        await (await F.SendAsync(HttpMethod.Post, "/v1/webhooks", mod.Access, new { url = "http://127.0.0.1:1/x", events = new[] { "no_such_event" } }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await F.SendAsync(HttpMethod.Post, "/v1/webhooks", mod.Access, new { url = "ftp://example.com/x" }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.WebhookUrlRefused);
        await (await F.SendAsync(HttpMethod.Post, "/v1/webhooks", mod.Access, new { url = "https://user:pw@example.com/x" }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.WebhookUrlRefused);

        // This instance's worker is stopped; a second instance writes the events while the receiver is down, then stops.
        var worker = F.Services.GetRequiredService<WebhookDispatcher>();
        await worker.StopAsync(CancellationToken.None);
        try
        {
            using var down = new PortReservation();
            var port = down.Port;
            string hookId;
            var (first, firstHttp) = await F.StartAnotherInstanceAsync();
            await using (first)
            {
                using (firstHttp)
                {
                    var created = await (await SendOnAsync(firstHttp, HttpMethod.Post, "/v1/webhooks", mod.Access,
                        new { url = $"http://127.0.0.1:{port}/hooks", events = new[] { "user_created" } })).BodyAsync(HttpStatusCode.Created);
                    hookId = (string)created["id"]!;
                    for (var i = 0; i < 3; i++)
                    {
                        await (await SendOnAsync(firstHttp, HttpMethod.Post, "/v1/users", mod.Access,
                            new { email = $"r{Guid.NewGuid():N}@acme.test", password = ControlPlaneFixture.DefaultPassword, role = "explore" }))
                            .BodyAsync(HttpStatusCode.Created);
                    }

                    // Its worker tries (connection refused) and schedules retries.
                    for (var i = 0; i < 50 && await F.InspectAsync<long>(
                        "SELECT COUNT(*) FROM webhook_deliveries WHERE org_id = @orgId AND attempts > 0", new { orgId }) < 3; i++)
                    {
                        await Task.Delay(50);
                    }
                }
                await first.StopAsync();
            }
            Assert.Equal(3L, await F.InspectAsync<long>(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE org_id = @orgId AND state = 'pending'", new { orgId }));
            var failed = (await (await F.SendAsync(HttpMethod.Get, $"/v1/webhooks/{hookId}/deliveries", mod.Access)).BodyAsync(HttpStatusCode.OK)).AsArray();
            Assert.All(failed, d => Assert.StartsWith("connection failed", (string)d!["last_error"]!));

            // The receiver comes up, and so does a new instance on the same database: every event arrives.
            await using var receiver = await WebhookReceiver.StartAsync(down);
            var (second, secondHttp) = await F.StartAnotherInstanceAsync();
            await using (second)
            {
                secondHttp.Dispose();
                Assert.True(await receiver.WaitAsync(r => r.Acknowledged.Select(a => a.EventId).Distinct().Count() >= 3, F.Time, TimeSpan.FromSeconds(5)),
                    $"acknowledged {receiver.Acknowledged.Count()} of 3");
                await second.StopAsync();
            }
            var delivered = await SettledDeliveriesAsync(mod.Access, hookId);
            Assert.Equal(3, delivered.Count(d => (string)d!["state"]! == "delivered"));
            Assert.Equal(HttpStatusCode.NoContent, (await F.SendAsync(HttpMethod.Delete, $"/v1/webhooks/{hookId}", mod.Access)).StatusCode);
        }
        finally
        {
            await worker.StartAsync(CancellationToken.None);
        }
    }

    [SuiteFact]
    public async Task A_slow_receiver_holds_only_its_own_deliveries()
    {
        var (orgId, mod, _) = await WebhookOrgAsync();
        await using var slow = await WebhookReceiver.StartAsync();
        await using var fast = await WebhookReceiver.StartAsync();
        slow.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (slowId, _) = await CreateWebhookAsync(mod.Access, slow.Url, "user_created");
        var (fastId, _) = await CreateWebhookAsync(mod.Access, fast.Url, "user_created");
        var audit = F.Services.GetRequiredService<AuditLog>();
        for (var i = 0; i < 10; i++)
        {
            await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.UserCreated) { UserId = "usr_slow" + i });
        }

        try
        {
            // The fast endpoint gets all ten while the slow one holds its first four (the per-endpoint limit) and no more.
            Assert.True(await fast.WaitAsync(r => r.Acknowledged.Count() >= 10, F.Time, TimeSpan.FromMilliseconds(100)),
                $"fast receiver acknowledged {fast.Acknowledged.Count()} of 10");
            Assert.True(await slow.WaitAsync(r => r.Concurrent == 4, F.Time, TimeSpan.FromMilliseconds(100)), $"slow receiver holds {slow.Concurrent}");
            Assert.Empty(slow.Received);
        }
        finally
        {
            slow.Gate.TrySetResult();
        }
        Assert.True(await slow.WaitAsync(r => r.Acknowledged.Select(a => a.EventId).Distinct().Count() >= 10, F.Time, TimeSpan.FromMilliseconds(100)));
        Assert.Equal(4, slow.MaxConcurrent);
        Assert.Equal(fast.Acknowledged.Select(r => r.EventId).Order(), slow.Acknowledged.Select(r => r.EventId).Order());
        foreach (var id in new[] { slowId, fastId })
        {
            Assert.Equal(HttpStatusCode.NoContent, (await F.SendAsync(HttpMethod.Delete, $"/v1/webhooks/{id}", mod.Access)).StatusCode);
        }
    }

    [SuiteFact]
    public async Task A_delivery_failing_for_a_day_is_dead_lettered_can_be_redelivered_and_leaves_the_log_after_its_retention()
    {
        var (orgId, mod, email) = await WebhookOrgAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = _ => 503;
        var (hookId, secret) = await CreateWebhookAsync(mod.Access, receiver.Url, "user_created");
        await CreateOrgUserAsync(mod.Access);
        for (var i = 0; i < 120 && await F.InspectAsync<long>(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE org_id = @orgId AND state = 'dead'", new { orgId }) == 0; i++)
        {
            F.Time.Advance(TimeSpan.FromMinutes(30));
            await Task.Delay(30);
        }

        mod = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgId);
        var dead = (await (await F.SendAsync(HttpMethod.Get, $"/v1/webhooks/{hookId}/deliveries", mod.Access)).BodyAsync(HttpStatusCode.OK)).AsArray().Single()!;
        Assert.Equal("dead", (string)dead["state"]!);
        Assert.Equal(503, (int)dead["last_status"]!);
        Assert.Null(dead["next_attempt_at"]);
        // Exponential backoff capped at an hour: far fewer attempts than a fixed short interval, and more than a handful.
        Assert.InRange((long)dead["attempts"]!, 10, 40);
        Assert.Equal((int)(long)dead["attempts"]!, receiver.Received.Count);

        receiver.Answer = _ => 200;
        var again = await (await F.SendAsync(HttpMethod.Post, $"/v1/webhooks/{hookId}/deliveries/{(string)dead["id"]!}/redeliver", mod.Access))
            .BodyAsync(HttpStatusCode.Accepted);
        Assert.Equal((string)dead["event_id"]!, (string)again["event_id"]!);
        Assert.True(await receiver.WaitAsync(r => r.Acknowledged.Any(), F.Time, TimeSpan.FromMilliseconds(200)));
        var ok = receiver.Acknowledged.Single();
        Assert.Equal((string)dead["event_id"]!, ok.EventId);
        Assert.True(Verifies(ok, secret));

        // After the log's retention (30 days) both the dead letter and its redelivery are pruned.
        await SettledDeliveriesAsync(mod.Access, hookId);
        for (var i = 0; i < 100 && await F.InspectAsync<long>("SELECT COUNT(*) FROM webhook_deliveries WHERE org_id = @orgId", new { orgId }) > 0; i++)
        {
            F.Time.Advance(TimeSpan.FromDays(i == 0 ? 31 : 1));
            await Task.Delay(30);
        }

        Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM webhook_deliveries WHERE org_id = @orgId", new { orgId }));
        mod = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgId);
        Assert.Equal(HttpStatusCode.NoContent, (await F.SendAsync(HttpMethod.Delete, $"/v1/webhooks/{hookId}", mod.Access)).StatusCode);
    }

    [SuiteFact]
    public async Task Two_instances_sharing_the_outbox_deliver_each_event_once()
    {
        var (orgId, mod, _) = await WebhookOrgAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var (hookId, _) = await CreateWebhookAsync(mod.Access, receiver.Url, "user_created");
        var worker = F.Services.GetRequiredService<WebhookDispatcher>();
        var (other, otherHttp) = await F.StartAnotherInstanceAsync();
        otherHttp.Dispose();
        var otherWorker = other.Services.GetRequiredService<WebhookDispatcher>();
        await Task.WhenAll(worker.StopAsync(CancellationToken.None), otherWorker.StopAsync(CancellationToken.None));
        try
        {
            var audit = F.Services.GetRequiredService<AuditLog>();
            for (var i = 0; i < 40; i++)
            {
                await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.UserCreated) { UserId = "usr_twice" + i });
            }
        }
        finally
        {
            // Both start together and race for the same rows.
            await Task.WhenAll(worker.StartAsync(CancellationToken.None), otherWorker.StartAsync(CancellationToken.None));
        }
        await using (other)
        {
            Assert.True(await receiver.WaitAsync(r => r.Acknowledged.Count() >= 40, F.Time, TimeSpan.FromMilliseconds(100)),
                $"acknowledged {receiver.Acknowledged.Count()} of 40");
            await Task.Delay(300);
            Assert.Equal(40, receiver.Received.Count);
            Assert.Equal(40, receiver.Received.Select(r => r.EventId).Distinct().Count());
            await other.StopAsync();
        }
        Assert.Equal(HttpStatusCode.NoContent, (await F.SendAsync(HttpMethod.Delete, $"/v1/webhooks/{hookId}", mod.Access)).StatusCode);
    }

    [SuiteFact]
    public async Task A_secret_that_cannot_be_unsealed_sends_nothing_and_fails_the_attempt()
    {
        var (_, mod, _) = await WebhookOrgAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var (hookId, _) = await CreateWebhookAsync(mod.Access, receiver.Url, "user_created");
        // As after a change of master key: the sealed secret no longer opens.
        await F.ExecuteAsync("UPDATE webhooks SET sealed_secret = @junk WHERE id = @hookId", new { junk = Convert.ToBase64String(new byte[40]), hookId });
        await CreateOrgUserAsync(mod.Access);
        System.Text.Json.Nodes.JsonNode? delivery = null;
        for (var i = 0; i < 100 && delivery is null; i++)
        {
            var log = (await (await F.SendAsync(HttpMethod.Get, $"/v1/webhooks/{hookId}/deliveries", mod.Access)).BodyAsync(HttpStatusCode.OK)).AsArray();
            delivery = log.FirstOrDefault(d => (long)d!["attempts"]! >= 1);
            await Task.Delay(50);
        }

        Assert.NotNull(delivery);
        Assert.Equal("pending", (string)delivery["state"]!);
        Assert.StartsWith("secret unreadable", (string)delivery["last_error"]!);
        Assert.Empty(receiver.Received);
        Assert.Equal(HttpStatusCode.NoContent, (await F.SendAsync(HttpMethod.Delete, $"/v1/webhooks/{hookId}", mod.Access)).StatusCode);
    }

    /// <summary>The delivery log once no delivery is pending (a receiver sees a request before its result is recorded); bounded.</summary>
    private async Task<System.Text.Json.Nodes.JsonArray> SettledDeliveriesAsync(string access, string hookId)
    {
        System.Text.Json.Nodes.JsonArray log = [];
        for (var i = 0; i < 100; i++)
        {
            log = (await (await F.SendAsync(HttpMethod.Get, $"/v1/webhooks/{hookId}/deliveries", access)).BodyAsync(HttpStatusCode.OK)).AsArray();
            if (log.All(d => (string)d!["state"]! != "pending"))
            {
                break;
            }

            await Task.Delay(50);
        }

        return log;
    }

    private static async Task<HttpResponseMessage> SendOnAsync(HttpClient http, HttpMethod method, string path, string access, object body)
    {
        using var req = new HttpRequestMessage(method, path) { Content = System.Net.Http.Json.JsonContent.Create(body) };
        req.Headers.Authorization = new("Bearer", access);
        return await http.SendAsync(req);
    }
}
