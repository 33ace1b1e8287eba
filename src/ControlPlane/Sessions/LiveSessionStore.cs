using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Sessions;

/// <summary>
/// Counts the sessions that can still be used, across every org, for the <c>sessions.active</c> gauge: not ended, and
/// either within the org's idle timeout (so a refresh would succeed) or holding an access token that has not expired.
/// Sessions nobody refreshed are never ended in the table, so "not ended" alone would only ever grow. Crossing orgs on
/// PostgreSQL goes through an owner-run function (row-level security confines the service role to one org).
/// </summary>
/// <remarks>
/// Cost: the partial index <c>sessions_live</c> (not ended, by <c>last_seen_at</c>) limits the scan to sessions seen
/// within the longest window a session can stay usable (the refresh-token lifetime), whatever the table's history.
/// </remarks>
internal sealed class LiveSessionStore(Db db, ControlPlaneOptions options)
{
    public Task<long> CountAsync(long now, CancellationToken ct)
    {
        var tokens = options.Tokens;
        var window = Max(tokens.RefreshTokenTtl, tokens.MaxAccessTokenTtl, options.Sessions.IdleTimeout) + tokens.ClockSkew;
        var args = new
        {
            now,
            horizon = now - (long)window.TotalMilliseconds,
            defaultIdle = (long)options.Sessions.IdleTimeout.TotalMilliseconds,
            minIdle = TokenOptions.MinTtlSeconds,
            maxIdle = (long)tokens.RefreshTokenTtl.TotalSeconds,
        };
        // The org's idle timeout is clamped as OrgStore.IdleTimeout clamps it, before it is multiplied (no overflow).
        var sql = db.Dialect == Dialect.Postgres
            ? "SELECT authio_live_session_count(@now, @horizon, @defaultIdle, @minIdle, @maxIdle)"
            : """
              SELECT COUNT(*) FROM sessions s JOIN orgs o ON o.id = s.org_id
              WHERE s.ended_at IS NULL AND s.last_seen_at >= @horizon
                AND (s.access_expires_at > @now OR @now - s.last_seen_at <= CASE WHEN o.idle_timeout_seconds IS NULL THEN @defaultIdle
                  ELSE MIN(MAX(o.idle_timeout_seconds, @minIdle), @maxIdle) * 1000 END)
              """;
        return db.GlobalAsync((c, tx) => c.ExecuteScalarAsync<long>(new CommandDefinition(sql, args, tx, cancellationToken: ct)), ct);
    }

    private static TimeSpan Max(params TimeSpan[] spans) => spans.Max();
}
