using System.Net;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Tests;

/// <summary>Its own SQLite database, so holding its write lock stalls no other test.</summary>
public sealed class LockableStoreFixture : SqliteFixtureBase;

/// <summary>A database that does not take the request's work in time is a 503 the client can retry, never a 500.</summary>
public sealed class StoreUnavailableTests(LockableStoreFixture f) : IClassFixture<LockableStoreFixture>
{
    [Fact]
    public async Task A_database_held_by_another_writer_answers_503_store_unavailable_then_recovers()
    {
        var admin = await f.AdminAsync();
        await using (var holder = await f.OpenInspectorAsync())
        {
            // Another process holds SQLite's write lock for longer than the control plane waits for it.
            await using var begin = holder.CreateCommand();
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync();

            using var refused = await f.SendAsync(HttpMethod.Get, "/v1/users", admin.Access);
            await refused.ProblemAsync(HttpStatusCode.ServiceUnavailable, ErrorCodes.StoreUnavailable);
            Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
        }

        using var served = await f.SendAsync(HttpMethod.Get, "/v1/users", admin.Access);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }
}
