using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Risk;

/// <summary>
/// Where and with what each user signed in lately (<c>sign_in_history</c>: network prefix and a digest of the user
/// agent, never the address or the agent itself), the most recent <see cref="Kept"/> per user.
/// </summary>
internal sealed class SignInHistoryStore(Db db)
{
    public const int Kept = 20;

    public Task<List<SignInHistoryRow>> RecentAsync(string userId, CancellationToken ct) => db.GlobalAsync(async (c, tx) =>
        (await c.QueryAsync<SignInHistoryRow>("SELECT network, device, last_seen, latitude, longitude FROM sign_in_history WHERE user_id = @userId ORDER BY last_seen DESC",
            new { userId }, tx)).ToList(), ct);

    public Task RememberAsync(string userId, string network, string device, long now, GeoLocation? location, CancellationToken ct) => db.GlobalAsync(async (c, tx) =>
    {
        var args = new { userId, network, device, now, latitude = location?.Latitude, longitude = location?.Longitude };
        // One upsert: an update-then-insert let concurrent first sign-ins from one network and device both insert, and the
        // loser's primary-key violation answered 500.
        await c.ExecuteAsync("""
            INSERT INTO sign_in_history (user_id, network, device, last_seen, latitude, longitude) VALUES (@userId, @network, @device, @now, @latitude, @longitude)
            ON CONFLICT (user_id, network, device) DO UPDATE SET last_seen = excluded.last_seen, latitude = excluded.latitude, longitude = excluded.longitude
            """, args, tx);
        return await c.ExecuteAsync("""
            DELETE FROM sign_in_history WHERE user_id = @userId AND last_seen < (
              SELECT MIN(last_seen) FROM (SELECT last_seen FROM sign_in_history WHERE user_id = @userId ORDER BY last_seen DESC LIMIT @kept) AS newest)
            """, new { userId, kept = (long)Kept }, tx);
    }, ct);
}

internal sealed class SignInHistoryRow
{
    public string Network { get; set; } = "";
    public string Device { get; set; } = "";
    public long LastSeen { get; set; }
    public double? Latitude { get; set; }
    public double? Longitude { get; set; }
}
