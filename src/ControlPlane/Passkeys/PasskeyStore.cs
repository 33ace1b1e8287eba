using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Passkeys;

/// <summary>A registered credential as stored: the public key only (COSE, base64url), never anything secret.</summary>
internal sealed class PasskeyRow
{
    public string Id { get; set; } = "";
    public string CredentialId { get; set; } = "";
    public string UserId { get; set; } = "";
    public string Name { get; set; } = "";
    public string PublicKey { get; set; } = "";
    public long SignCount { get; set; }
    public long BackupEligible { get; set; }
    public long BackedUp { get; set; }
    public string Aaguid { get; set; } = "";
    public string AttestationFormat { get; set; } = "";
    public string? Transports { get; set; }
    public long CreatedAt { get; set; }
    public long? LastUsedAt { get; set; }
}

/// <summary>A pending ceremony: the options the browser was given, answerable once before it expires.</summary>
internal sealed class PasskeyChallengeRow
{
    public string Id { get; set; } = "";
    public string Kind { get; set; } = "";
    public string? UserId { get; set; }
    public string Options { get; set; } = "";
    public long ExpiresAt { get; set; }
    public long CreatedAt { get; set; }
}

/// <summary>
/// The <c>passkey_credentials</c> and <c>passkey_challenges</c> tables. Both belong to identities (a person's passkey
/// works in each of their orgs) and are read before any org is known (discoverable sign-in), so they are global and
/// every query names the user or the credential it is about.
/// </summary>
internal sealed class PasskeyStore(Db db)
{
    private const string Columns = """
        id, credential_id, user_id, name, public_key, sign_count, backup_eligible, backed_up, aaguid, attestation_format,
        transports, created_at, last_used_at
        """;

    public Task<List<PasskeyRow>> ListAsync(string userId, CancellationToken ct) =>
        db.GlobalAsync(async (c, tx) => (await c.QueryAsync<PasskeyRow>(
            $"SELECT {Columns} FROM passkey_credentials WHERE user_id = @userId ORDER BY created_at, id", new { userId }, tx)).ToList(), ct);

    public Task<PasskeyRow?> FindByCredentialIdAsync(string credentialId, CancellationToken ct) =>
        db.GlobalAsync((c, tx) => c.QuerySingleOrDefaultAsync<PasskeyRow>(
            $"SELECT {Columns} FROM passkey_credentials WHERE credential_id = @credentialId", new { credentialId }, tx), ct);

    public Task<bool> CredentialIdTakenAsync(string credentialId, CancellationToken ct) =>
        db.GlobalAsync(async (c, tx) => await c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM passkey_credentials WHERE credential_id = @credentialId", new { credentialId }, tx) > 0, ct);

    public Task<long> CountAsync(string userId, CancellationToken ct) =>
        db.GlobalAsync((c, tx) => c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM passkey_credentials WHERE user_id = @userId", new { userId }, tx), ct);

    /// <summary>Inserts unless the user already holds <paramref name="max"/> passkeys; false when full.</summary>
    public Task<bool> InsertAsync(PasskeyRow row, int max, CancellationToken ct) =>
        db.GlobalAsync(async (c, tx) =>
        {
            if (await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM passkey_credentials WHERE user_id = @UserId", row, tx) >= max)
            {
                return false;
            }

            await c.ExecuteAsync($"""
                INSERT INTO passkey_credentials ({Columns})
                VALUES (@Id, @CredentialId, @UserId, @Name, @PublicKey, @SignCount, @BackupEligible, @BackedUp, @Aaguid, @AttestationFormat,
                  @Transports, @CreatedAt, @LastUsedAt)
                """, row, tx);
            return true;
        }, ct);

    public Task<bool> DeleteAsync(string userId, string id, CancellationToken ct) =>
        db.GlobalAsync(async (c, tx) => await c.ExecuteAsync(
            "DELETE FROM passkey_credentials WHERE user_id = @userId AND id = @id", new { userId, id }, tx) == 1, ct);

    /// <summary>
    /// Records a verified use. Compare-and-set on the counter: of two assertions racing with the same counter (a cloned
    /// key used twice at once) only one moves it; false for the other.
    /// </summary>
    public Task<bool> RecordUseAsync(string id, long expectedCount, long newCount, bool backedUp, long now, CancellationToken ct) =>
        db.GlobalAsync(async (c, tx) => await c.ExecuteAsync("""
            UPDATE passkey_credentials SET sign_count = @newCount, backed_up = @backedUp, last_used_at = @now
            WHERE id = @id AND sign_count = @expectedCount
            """, new { id, expectedCount, newCount, backedUp = backedUp ? 1L : 0L, now }, tx) == 1, ct);

    /// <summary>Stores a challenge and drops expired ones (so the table holds at most a lifetime's worth).</summary>
    public Task InsertChallengeAsync(PasskeyChallengeRow row, CancellationToken ct) =>
        db.GlobalAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("DELETE FROM passkey_challenges WHERE expires_at < @CreatedAt", row, tx);
            return await c.ExecuteAsync("""
                INSERT INTO passkey_challenges (id, kind, user_id, options, expires_at, created_at)
                VALUES (@Id, @Kind, @UserId, @Options, @ExpiresAt, @CreatedAt)
                """, row, tx);
        }, ct);

    /// <summary>
    /// Takes a challenge out of the table: the row when this call removed it (whether or not it has expired), null when
    /// it was never there or another answer took it first. Every instance shares the table, so any can complete it.
    /// </summary>
    public Task<PasskeyChallengeRow?> TakeChallengeAsync(string id, CancellationToken ct) =>
        db.GlobalAsync(async (c, tx) =>
        {
            var row = await c.QuerySingleOrDefaultAsync<PasskeyChallengeRow>(
                "SELECT id, kind, user_id, options, expires_at, created_at FROM passkey_challenges WHERE id = @id", new { id }, tx);
            if (row is null)
            {
                return null;
            }

            return await c.ExecuteAsync("DELETE FROM passkey_challenges WHERE id = @id", new { id }, tx) == 1 ? row : null;
        }, ct);
}
