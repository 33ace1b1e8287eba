using System.Collections.Concurrent;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.Tokens;
using Authio.ControlPlane.Users;

namespace Authio.ControlPlane.Api;

/// <summary>The admin API's answer for one access token: the caller's current role, or why it is refused (401).</summary>
internal readonly record struct AuthorityVerdict(string? Role, string? Refusal)
{
    public bool Allowed => Refusal is null;
}

/// <summary>
/// Checks every admin-API access token against the same live state the edge follows (the session's <c>sid</c>, the
/// token's <c>jti</c>, the user's not-before in the org) plus the caller's current membership and role, with one store
/// read per session and change instead of one per request.
/// </summary>
/// <remarks>
/// Every change that alters what is cached (a session end, logout-all, deactivation, role change, password change, an
/// access-token revocation) appends to the edge change log in its transaction. An entry remembers the change log's
/// in-process signal and the last sequence number polled when it was read, both taken before the read; it is used only
/// while both are unchanged. This instance's own commits replace the signal synchronously after commit, so its cache is
/// invalid before the changing request answers; other instances' commits raise the sequence number, which
/// <see cref="CallerAuthorityPoller"/> reads every <see cref="PollInterval"/>. If polling stalls for longer than
/// <see cref="StaleAfter"/>, nothing is served from the cache.
/// </remarks>
internal sealed class CallerAuthority(SessionStore store, EdgeChangeStore changes, AccessTokenValidator validator, Hosting.ControlPlaneOptions options,
    TimeProvider time)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(1);

    /// <summary>Sessions cached at most; the cache is emptied when full (a burst of misses, never a wrong answer).</summary>
    public const int MaxEntries = 100_000;

    /// <summary>Access tokens remembered per session (a refresh mints a new one; racing tabs may hold two).</summary>
    private const int JtisPerSession = 4;

    private sealed record Entry(Task Signal, long Seq, SessionAuthorityRow? Row, string[] Jtis, bool[] JtiRevoked);

    private readonly ConcurrentDictionary<(string Org, string Sid), Entry> _cache = new();
    private long _seq;
    // -1 until the first poll: no cache hits before the change log's position is known.
    private long _polledAt = -1;

    /// <summary>Entries served from the cache and read from the store, for tests and the benchmark.</summary>
    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);
    private long _hits;
    private long _misses;

    /// <summary>The change log's sequence number as last polled (tests wait on it rather than on a wall-clock bound).</summary>
    public long ObservedSequence => Volatile.Read(ref _seq);

    /// <summary>Validated access tokens cached at most (a few hundred bytes each); emptied when full.</summary>
    public const int MaxTokens = 20_000;

    private sealed record ValidToken(Task Signal, long Seq, AccessTokenClaims Claims);

    private readonly ConcurrentDictionary<string, ValidToken> _tokens = new(StringComparer.Ordinal);

    /// <summary>
    /// <see cref="AccessTokenValidator.ValidateAsync"/> with a cache of tokens that validated, under the same invalidation
    /// as the authority entries: a change to the published keys (rotation, revocation) appends to the change log, so a
    /// token is re-verified after any change; expiry is re-checked on every hit. Refusals are not cached.
    /// </summary>
    public async ValueTask<AccessTokenClaims?> ValidateAsync(string token, CancellationToken ct)
    {
        if (Fresh && _tokens.TryGetValue(token, out var hit) && ReferenceEquals(hit.Signal, changes.Signal) && hit.Seq == Volatile.Read(ref _seq))
        {
            if (time.GetUtcNow() < DateTimeOffset.FromUnixTimeSeconds(hit.Claims.ExpiresAt) + options.Tokens.ClockSkew)
            {
                return hit.Claims;
            }

            _tokens.TryRemove(token, out _);
            return null;
        }
        var signal = changes.Signal;
        var seq = Volatile.Read(ref _seq);
        var claims = await validator.ValidateAsync(token, ct);
        if (claims is null)
        {
            return null;
        }

        if (_tokens.Count >= MaxTokens)
        {
            _tokens.Clear();
        }

        _tokens[token] = new ValidToken(signal, seq, claims);
        return claims;
    }

    /// <summary>Called by the poller with the change log's last sequence number.</summary>
    public void Observe(long lastSeq)
    {
        Volatile.Write(ref _seq, lastSeq);
        Volatile.Write(ref _polledAt, Environment.TickCount64);
    }

    private bool Fresh => Volatile.Read(ref _polledAt) is var at && at >= 0 && Environment.TickCount64 - at <= (long)StaleAfter.TotalMilliseconds;

    public async ValueTask<AuthorityVerdict> CheckAsync(AccessTokenClaims claims, CancellationToken ct)
    {
        var key = (claims.OrgId, claims.SessionId);
        var jti = claims.TokenId ?? "";
        if (Fresh && _cache.TryGetValue(key, out var cached) && ReferenceEquals(cached.Signal, changes.Signal) && cached.Seq == Volatile.Read(ref _seq))
        {
            var i = Array.IndexOf(cached.Jtis, jti);
            if (i >= 0)
            {
                Interlocked.Increment(ref _hits);
                return Decide(cached.Row, cached.JtiRevoked[i], claims);
            }
        }
        Interlocked.Increment(ref _misses);
        // Taken before the read: a change committed during it invalidates what the read returns.
        var signal = changes.Signal;
        var seq = Volatile.Read(ref _seq);
        var row = await store.AuthorityAsync(claims.OrgId, claims.SessionId, jti, time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
        var revoked = row is not null && row.JtiRevoked > 0;
        string[] jtis = [jti];
        bool[] flags = [revoked];
        if (_cache.TryGetValue(key, out var previous) && ReferenceEquals(previous.Signal, signal) && previous.Seq == seq)
        {
            // Same generation: keep the session's other tokens (newest first).
            var others = previous.Jtis.Select((j, n) => (j, n)).Where(p => p.j != jti).Take(JtisPerSession - 1).ToArray();
            jtis = [jti, .. others.Select(p => p.j)];
            flags = [revoked, .. others.Select(p => previous.JtiRevoked[p.n])];
        }
        if (_cache.Count >= MaxEntries)
        {
            _cache.Clear();
        }

        _cache[key] = new Entry(signal, seq, row, jtis, flags);
        return Decide(row, revoked, claims);
    }

    private static AuthorityVerdict Decide(SessionAuthorityRow? row, bool jtiRevoked, AccessTokenClaims claims)
    {
        if (row is null || row.UserId != claims.UserId || row.EndedAt is not null || row.SidRevoked > 0)
        {
            return new(null, "The session has ended.");
        }

        if (row.Role is null || row.Active != 1)
        {
            return new(null, "The user is no longer an active member of the organization.");
        }

        if (jtiRevoked)
        {
            return new(null, "The access token has been revoked.");
        }
        // The edge's rule (iat < not-before rounded up to whole seconds), for sessions that existed when it was written;
        // a session started after it (same second) is new authority, not a survivor.
        if (row.NotBefore is { } nb && claims.IssuedAt < (nb + 999) / 1000 && row.CreatedAt <= nb)
        {
            return new(null, "The access token has been revoked.");
        }
        // Never more than the token says, never more than the user holds now.
        return new(Roles.Higher(claims.Role, row.Role) == claims.Role ? row.Role : claims.Role, null);
    }
}
