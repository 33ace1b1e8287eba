using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.EndToEnd;

/// <summary>
/// A real control plane (SQLite, or with <paramref name="postgres"/> a fresh PostgreSQL database under row-level
/// security) and a real edge that knows it only by URL and an <c>edge:sync</c> key, in front of a recording upstream;
/// with <paramref name="withRedis"/> both share a private Redis (stream feed, Redis-held revocations).
/// </summary>
public abstract class ControlPlaneAndEdge(bool withRedis, bool postgres = false) : IAsyncLifetime
{
    private PostgresDatabase? _database;

    private protected RecordingUpstream Upstream { get; } = new();
    private protected RealControlPlane Cp { get; private set; } = null!;
    private protected EdgeTestHost Edge { get; private set; } = null!;
    private protected RedisProcess? Redis { get; private set; }

    /// <summary>The control plane's clock, when a suite moves time (null: the real clock).</summary>
    private protected virtual TimeProvider? ControlPlaneTime => null;

    /// <summary>Extra edge settings of a suite.</summary>
    private protected virtual void ConfigureEdge(Dictionary<string, string?> config)
    {
    }

    /// <summary>
    /// The edge runs on a test clock, frozen at its start; the control plane on the real one. A token issued more than
    /// the edge's clock skew after the edge started would look issued in the edge's future (401), so a suite that spends
    /// long in a browser brings the edge's clock up to now before it presents a fresh token. Never moves it back.
    /// </summary>
    private protected void EdgeClockToNow()
    {
        var now = DateTimeOffset.UtcNow;
        if (now > Edge.Time.GetUtcNow())
        {
            Edge.Time.SetUtcNow(now);
        }
    }

    public async Task InitializeAsync()
    {
        Redis = withRedis ? await RedisProcess.StartAsync() : null;
        _database = postgres ? await PostgresDatabase.CreateAsync() : null;
        Cp = await RealControlPlane.StartAsync(ControlPlaneTime,
        [
            .. Redis is null ? [] : new[] { $"--ControlPlane:Redis={Redis.ConnectionString}" },
            .. _database?.Arguments ?? [],
        ]);
        var admin = await Cp.AccessTokenAsync();
        var edgeKey = (await Cp.CreateApiKeyAsync(admin, "edge", ["edge:sync"])).GetProperty("key").GetString()!;
        await Upstream.StartAsync();
        var config = EdgeTestHost.ControlPlaneOnlyConfig(Upstream.Url, Cp.Url, edgeKey);
        if (Redis is not null)
        {
            config["Edge:Redis"] = Redis.ConnectionString;
        }
        ConfigureEdge(config);
        Edge = await EdgeTestHost.StartAsync(config);
        await Edge.WaitForSnapshotAsync();
    }

    public async Task DisposeAsync()
    {
        await Edge.DisposeAsync();
        await Upstream.DisposeAsync();
        await Cp.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }
}
