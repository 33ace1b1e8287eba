using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// A refresh racing an ending action either commits first (and its token is then refused) or fails: after the ending
/// returns, no refresh succeeds and no access token of the session is accepted by the admin API or by introspection
/// (the revocation data edges receive).
/// </summary>
public abstract partial class ControlPlaneSuite
{
    // Rounds per ending and store, bounded in time: at least MinRaceRounds must fit in RaceBudget on a slow machine.
    private const int RaceRounds = 60;
    private const int MinRaceRounds = 25;
    private static readonly TimeSpan RaceBudget = TimeSpan.FromSeconds(45);

    private enum Ending { SessionEnd, LogoutAll, Deactivation, PasswordChange }

    [SuiteFact]
    public Task A_refresh_racing_a_session_end_never_outlives_it() => RaceAsync(Ending.SessionEnd);

    [SuiteFact]
    public Task A_refresh_racing_logout_all_never_outlives_it() => RaceAsync(Ending.LogoutAll);

    [SuiteFact]
    public Task A_refresh_racing_deactivation_never_outlives_it() => RaceAsync(Ending.Deactivation);

    [SuiteFact]
    public Task A_refresh_racing_a_password_change_never_outlives_it() => RaceAsync(Ending.PasswordChange);

    private async Task RaceAsync(Ending ending)
    {
        var clock = Stopwatch.StartNew();
        var refreshes = 0;
        var committedBeforeEnd = 0;
        var rounds = 0;
        for (; rounds < RaceRounds && (rounds < MinRaceRounds || clock.Elapsed < RaceBudget); rounds++)
        {
            // A fresh admin token each round: the fast clock below ages a round by tens of seconds, so one token from
            // the start would expire part-way through a slow run.
            var admin = await F.AdminAsync();
            var (id, email) = await F.CreateUserAsync("create", admin);
            var t = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
            var sid = Sid(t.Access);
            var minted = new ConcurrentBag<string> { t.Access };
            var endReturned = 0L;
            var refusedAfterEnd = 0;
            using var stop = new CancellationTokenSource();

            // A client refreshing as fast as it can, always with the newest refresh token.
            var loop = Task.Run(async () =>
            {
                var refresh = t.Refresh;
                while (!stop.IsCancellationRequested)
                {
                    var startedAfterEnd = Volatile.Read(ref endReturned) != 0;
                    using var r = await F.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = refresh });
                    Interlocked.Increment(ref refreshes);
                    if (r.StatusCode == HttpStatusCode.OK)
                    {
                        Assert.False(startedAfterEnd, $"{ending}: a refresh started after the ending returned succeeded");
                        var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
                        minted.Add((string)body["access_token"]!);
                        refresh = (string)body["refresh_token"]!;
                        continue;
                    }
                    Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
                    if (startedAfterEnd && ++refusedAfterEnd >= 2)
                    {
                        return;
                    }
                }
            });

            // Time runs fast meanwhile, so whole-second boundaries fall between a refresh's commit, the ending and the
            // token's issue (iat and not-before are whole seconds on the wire).
            var ticking = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    F.Time.Advance(TimeSpan.FromMilliseconds(Random.Shared.Next(50, 400)));
                    await Task.Delay(1);
                }
            });

            // The fast clock must stop however the round ends, or it would go on ageing every later test's tokens.
            try
            {
                await Task.Delay(Random.Shared.Next(0, 15));
                var before = minted.Count;
                var response = ending switch
                {
                    Ending.SessionEnd => await F.SendAsync(HttpMethod.Delete, "/v1/sessions/" + sid, admin.Access),
                    Ending.LogoutAll => await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/logout-all", admin.Access),
                    Ending.Deactivation => await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/deactivate", admin.Access),
                    _ => await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/password", admin.Access, new { new_password = "An0ther!pass" + rounds }),
                };
                Assert.True(response.IsSuccessStatusCode, $"{ending}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                Volatile.Write(ref endReturned, 1);
                var finished = await Task.WhenAny(loop, Task.Delay(TimeSpan.FromSeconds(10)));
                stop.Cancel();
                Assert.Same(loop, finished);
                await loop;
                committedBeforeEnd += minted.Count - before;
            }
            finally
            {
                stop.Cancel();
                await ticking;
            }

            // Every token the session ever had — including ones minted by refreshes that committed just before the end —
            // is refused by the admin API and reported inactive from the edge's revocation data.
            foreach (var access in minted)
            {
                await (await GetUsersAsync(access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
                Assert.False((bool)(await IntrospectAsync(admin.Access, access))["active"]!, $"{ending}: a token of the ended session is active");
            }
        }
        Assert.True(refreshes >= rounds * 2, $"{ending}: only {refreshes} refreshes raced in {rounds} rounds ({committedBeforeEnd} tokens minted around the end)");
    }
}
