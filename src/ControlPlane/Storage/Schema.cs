namespace Authio.ControlPlane.Storage;

/// <summary>
/// Versioned migrations. Shared DDL uses <c>{SEQ}</c> for an auto-increment key; PostgreSQL additionally
/// gets row-level security on every org-scoped table. Never edit a released step: append a new one.
/// </summary>
internal static class Schema
{
    public sealed record Migration(int Version, string Name, string Common, string PostgresOnly);

    /// <summary>
    /// Tables of migration 1 whose rows belong to one org: each has <c>org_id</c> and, on PostgreSQL, an isolation policy.
    /// Later org-scoped tables (<c>api_keys</c>, <c>api_key_secrets</c>) get theirs in the migration that adds them.
    /// </summary>
    public static readonly string[] OrgScopedTables =
        ["memberships", "project_roles", "teams", "team_members", "sessions", "refresh_tokens", "revocations", "audit_events"];

    public static readonly Migration[] All =
    [
        new(1, "initial", """
            CREATE TABLE orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL, access_ttl_seconds BIGINT NULL,
              idle_timeout_seconds BIGINT NULL, audit_retention_days BIGINT NULL, created_at BIGINT NOT NULL);
            CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
              failed_count BIGINT NOT NULL DEFAULT 0, failed_window_start BIGINT NULL, locked_until BIGINT NULL,
              password_changed_at BIGINT NOT NULL, created_at BIGINT NOT NULL);
            CREATE TABLE memberships (org_id TEXT NOT NULL REFERENCES orgs(id), user_id TEXT NOT NULL REFERENCES users(id),
              role TEXT NOT NULL, active BIGINT NOT NULL DEFAULT 1, created_at BIGINT NOT NULL, deactivated_at BIGINT NULL,
              PRIMARY KEY (org_id, user_id));
            CREATE INDEX memberships_user ON memberships(user_id);
            CREATE TABLE project_roles (org_id TEXT NOT NULL, user_id TEXT NOT NULL, project_id TEXT NOT NULL, role TEXT NOT NULL,
              PRIMARY KEY (org_id, user_id, project_id));
            CREATE TABLE teams (org_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, created_at BIGINT NOT NULL,
              PRIMARY KEY (org_id, id));
            CREATE UNIQUE INDEX teams_name ON teams(org_id, name);
            CREATE TABLE team_members (org_id TEXT NOT NULL, team_id TEXT NOT NULL, user_id TEXT NOT NULL,
              PRIMARY KEY (org_id, team_id, user_id));
            CREATE TABLE sessions (org_id TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT NOT NULL, created_at BIGINT NOT NULL,
              last_seen_at BIGINT NOT NULL, ip TEXT NULL, user_agent TEXT NULL, access_expires_at BIGINT NOT NULL,
              ended_at BIGINT NULL, end_reason TEXT NULL, PRIMARY KEY (org_id, id));
            CREATE INDEX sessions_user ON sessions(org_id, user_id);
            CREATE TABLE refresh_tokens (org_id TEXT NOT NULL, hash TEXT NOT NULL, session_id TEXT NOT NULL,
              created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, rotated_at BIGINT NULL, PRIMARY KEY (org_id, hash));
            CREATE TABLE revocations (seq {SEQ}, org_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
              not_before BIGINT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
            CREATE TABLE signing_keys (kid TEXT PRIMARY KEY, created_at BIGINT NOT NULL, activate_at BIGINT NOT NULL,
              retire_at BIGINT NULL, revoked_at BIGINT NULL, x TEXT NOT NULL, y TEXT NOT NULL, sealed_private TEXT NOT NULL);
            CREATE TABLE audit_events (seq {SEQ}, org_id TEXT NOT NULL, id TEXT NOT NULL UNIQUE, ts BIGINT NOT NULL,
              event TEXT NOT NULL, actor_id TEXT NULL, user_id TEXT NULL, email TEXT NULL, session_id TEXT NULL, ip TEXT NULL,
              user_agent TEXT NULL, outcome TEXT NOT NULL, details TEXT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
            CREATE INDEX audit_org_ts ON audit_events(org_id, ts);
            """,
            // Sign-in must find a user's orgs before any org is known; this owner-run function is the one
            // sanctioned way across the isolation boundary and returns nothing but org ids.
            """
            CREATE FUNCTION authio_user_orgs(p_user_id TEXT) RETURNS TABLE(org_id TEXT, active BIGINT)
              LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
              AS $$ SELECT m.org_id, m.active FROM memberships m WHERE m.user_id = p_user_id $$;
            """),
        new(2, "key_transitions_and_indexes", """
            ALTER TABLE signing_keys ADD COLUMN activation_audited BIGINT NOT NULL DEFAULT 0;
            ALTER TABLE signing_keys ADD COLUMN retirement_audited BIGINT NOT NULL DEFAULT 0;
            CREATE INDEX audit_org_seq ON audit_events(org_id, seq);
            CREATE INDEX refresh_tokens_session ON refresh_tokens(org_id, session_id);
            CREATE INDEX revocations_org_seq ON revocations(org_id, seq);
            """, ""),
        // Identities are shared by a person's orgs, but an org may only see its own members. The few sign-in steps that
        // run before an org is known go through owner-run functions that touch exactly the rows they need.
        new(3, "users_row_level_security", "", """
            CREATE FUNCTION authio_find_user_by_email(p_email TEXT) RETURNS SETOF users
              LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
              AS $$ SELECT * FROM users WHERE email = p_email $$;
            CREATE FUNCTION authio_user_count() RETURNS BIGINT
              LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
              AS $$ SELECT COUNT(*) FROM users $$;
            CREATE FUNCTION authio_add_login_failure(p_id TEXT, p_now BIGINT, p_window BIGINT) RETURNS BIGINT
              LANGUAGE sql SECURITY DEFINER SET search_path = public
              AS $$ UPDATE users SET
                failed_count = CASE WHEN failed_window_start IS NOT NULL AND p_now - failed_window_start <= p_window THEN failed_count + 1 ELSE 1 END,
                failed_window_start = CASE WHEN failed_window_start IS NOT NULL AND p_now - failed_window_start <= p_window THEN failed_window_start ELSE p_now END
                WHERE id = p_id RETURNING failed_count $$;
            CREATE FUNCTION authio_set_login_state(p_id TEXT, p_count BIGINT, p_window BIGINT, p_locked BIGINT) RETURNS VOID
              LANGUAGE sql SECURITY DEFINER SET search_path = public
              AS $$ UPDATE users SET failed_count = p_count, failed_window_start = p_window, locked_until = p_locked WHERE id = p_id $$;
            REVOKE EXECUTE ON FUNCTION authio_user_orgs(TEXT), authio_find_user_by_email(TEXT), authio_user_count(),
              authio_add_login_failure(TEXT, BIGINT, BIGINT), authio_set_login_state(TEXT, BIGINT, BIGINT, BIGINT) FROM PUBLIC;
            ALTER TABLE users ENABLE ROW LEVEL SECURITY;
            CREATE POLICY members_of_current_org ON users FOR SELECT
              USING (EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.org_id = current_setting('app.org_id', true)));
            CREATE POLICY update_members_of_current_org ON users FOR UPDATE
              USING (EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.org_id = current_setting('app.org_id', true)));
            CREATE POLICY insert_new_identities ON users FOR INSERT WITH CHECK (true);
            """),
        // API keys. Only the SHA-256 of a secret is stored (base64url, as edges send it); a rotated key keeps its id and
        // its previous secret stays valid until valid_until. Scopes are data: built-ins (org_id NULL) plus each org's own.
        new(4, "api_keys", """
            CREATE TABLE api_key_scopes (org_id TEXT NULL, name TEXT NOT NULL, description TEXT NULL, created_by TEXT NULL,
              created_at BIGINT NOT NULL);
            CREATE UNIQUE INDEX api_key_scopes_name ON api_key_scopes(org_id, name);
            INSERT INTO api_key_scopes (org_id, name, description, created_at) VALUES
              (NULL, 'read:applications', 'Read applications', 0), (NULL, 'write:applications', 'Create and change applications', 0),
              (NULL, 'read:reviews', 'Read reviews', 0), (NULL, 'write:reviews', 'Create and change reviews', 0),
              (NULL, 'read:campaigns', 'Read campaigns', 0), (NULL, 'write:campaigns', 'Create and change campaigns', 0),
              (NULL, 'read:leads', 'Read leads', 0), (NULL, 'write:leads', 'Create and change leads', 0),
              (NULL, 'read:contracts', 'Read contracts', 0), (NULL, 'write:contracts', 'Create and change contracts', 0),
              (NULL, 'admin', 'Administer the organization', 0), (NULL, 'edge:sync', 'Edge proxies: look up API keys and report usage', 0);
            CREATE TABLE api_keys (org_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, prefix TEXT NOT NULL, scopes TEXT NOT NULL,
              environment TEXT NOT NULL, project_id TEXT NULL, created_by TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NULL,
              rotated_at BIGINT NULL, last_used_at BIGINT NULL, use_count BIGINT NOT NULL DEFAULT 0, revoked_at BIGINT NULL,
              revoked_by TEXT NULL, expiry_audited BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (org_id, id));
            CREATE UNIQUE INDEX api_keys_id ON api_keys(id);
            CREATE TABLE api_key_secrets (digest TEXT PRIMARY KEY, org_id TEXT NOT NULL, key_id TEXT NOT NULL, created_at BIGINT NOT NULL,
              valid_until BIGINT NULL);
            CREATE INDEX api_key_secrets_key ON api_key_secrets(org_id, key_id);
            """,
            // Edges serve every org, so finding a key by digest (or a reported key's org) crosses the isolation boundary:
            // owner-run functions return only the org and key id; everything else is read inside that org.
            RlsFor("api_keys") + RlsFor("api_key_secrets") + """
            ALTER TABLE api_key_scopes ENABLE ROW LEVEL SECURITY;
            CREATE POLICY builtin_or_own ON api_key_scopes FOR SELECT
              USING (org_id IS NULL OR org_id = current_setting('app.org_id', true));
            CREATE POLICY own_insert ON api_key_scopes FOR INSERT WITH CHECK (org_id = current_setting('app.org_id', true));
            CREATE POLICY own_update ON api_key_scopes FOR UPDATE
              USING (org_id = current_setting('app.org_id', true)) WITH CHECK (org_id = current_setting('app.org_id', true));
            CREATE POLICY own_delete ON api_key_scopes FOR DELETE USING (org_id = current_setting('app.org_id', true));
            CREATE FUNCTION authio_api_key_by_digest(p_digest TEXT) RETURNS TABLE(org_id TEXT, key_id TEXT, valid_until BIGINT)
              LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
              AS $$ SELECT s.org_id, s.key_id, s.valid_until FROM api_key_secrets s WHERE s.digest = p_digest $$;
            CREATE FUNCTION authio_api_key_org(p_key_id TEXT) RETURNS TEXT
              LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
              AS $$ SELECT k.org_id FROM api_keys k WHERE k.id = p_key_id $$;
            REVOKE EXECUTE ON FUNCTION authio_api_key_by_digest(TEXT), authio_api_key_org(TEXT) FROM PUBLIC;
            """),
        // Edge sync: one ordered change log (revocations of every kind, and each new JWKS document) with its own global
        // sequence. Revocations keep their org (RLS as usual); global changes (jwks, signing_key) have org_id NULL.
        // edge_sync_state.pruned_through is the highest seq ever pruned: an edge behind it must take a snapshot.
        new(5, "edge_changes", """
            CREATE TABLE edge_changes (seq {SEQ}, org_id TEXT NULL, type TEXT NOT NULL, kind TEXT NULL, value TEXT NULL,
              not_before BIGINT NULL, expires_at BIGINT NOT NULL, payload TEXT NULL, created_at BIGINT NOT NULL);
            CREATE INDEX edge_changes_expires ON edge_changes(expires_at);
            CREATE TABLE edge_sync_state (id BIGINT PRIMARY KEY, pruned_through BIGINT NOT NULL);
            INSERT INTO edge_sync_state (id, pruned_through) VALUES (1, 0);
            INSERT INTO edge_changes (org_id, type, kind, value, not_before, expires_at, payload, created_at)
              SELECT org_id, 'revocation', kind, value, not_before, expires_at, NULL, created_at FROM revocations ORDER BY seq;
            """,
            // Edges read every allowed org's changes, and the job prunes all orgs: owner-run functions, service role only.
            // Writes stay RLS-checked: an org's transaction may add its own rows or global (org_id NULL) ones.
            """
            ALTER TABLE edge_changes ENABLE ROW LEVEL SECURITY;
            CREATE POLICY own_or_global_read ON edge_changes FOR SELECT
              USING (org_id IS NULL OR org_id = current_setting('app.org_id', true));
            CREATE POLICY own_or_global_insert ON edge_changes FOR INSERT
              WITH CHECK (org_id IS NULL OR org_id = current_setting('app.org_id', true));
            CREATE FUNCTION authio_edge_changes(p_after BIGINT, p_limit BIGINT, p_all BOOLEAN, p_orgs TEXT[]) RETURNS SETOF edge_changes
              LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
              AS $$ SELECT * FROM edge_changes WHERE seq > p_after AND (org_id IS NULL OR p_all OR org_id = ANY(p_orgs))
                ORDER BY seq LIMIT p_limit $$;
            CREATE FUNCTION authio_edge_live_revocations(p_through BIGINT, p_now BIGINT, p_all BOOLEAN, p_orgs TEXT[]) RETURNS SETOF edge_changes
              LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
              AS $$ SELECT * FROM edge_changes WHERE type = 'revocation' AND seq <= p_through AND expires_at > p_now
                AND (org_id IS NULL OR p_all OR org_id = ANY(p_orgs)) ORDER BY seq $$;
            CREATE FUNCTION authio_edge_last_seq() RETURNS BIGINT
              LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
              AS $$ SELECT GREATEST((SELECT COALESCE(MAX(seq), 0) FROM edge_changes), (SELECT pruned_through FROM edge_sync_state WHERE id = 1)) $$;
            CREATE FUNCTION authio_edge_prune(p_now BIGINT) RETURNS BIGINT
              LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
              AS $$
              DECLARE v_max BIGINT; v_count BIGINT;
              BEGIN
                SELECT MAX(seq) INTO v_max FROM edge_changes WHERE type = 'jwks';
                WITH gone AS (DELETE FROM edge_changes WHERE (type = 'revocation' AND expires_at <= p_now) OR (type = 'jwks' AND seq < v_max)
                  RETURNING seq)
                SELECT COUNT(*), MAX(seq) INTO v_count, v_max FROM gone;
                IF v_count > 0 THEN
                  UPDATE edge_sync_state SET pruned_through = GREATEST(pruned_through, v_max) WHERE id = 1;
                END IF;
                DELETE FROM revocations WHERE expires_at <= p_now;
                RETURN v_count;
              END $$;
            REVOKE EXECUTE ON FUNCTION authio_edge_changes(BIGINT, BIGINT, BOOLEAN, TEXT[]),
              authio_edge_live_revocations(BIGINT, BIGINT, BOOLEAN, TEXT[]), authio_edge_last_seq(), authio_edge_prune(BIGINT) FROM PUBLIC;
            """),
        // Per-org rate limits the edges enforce (the Authio.RateLimit grammar, normalised). One row per org that has one
        // (clearing deletes it), RLS per org as usual. Each write appends an 'org_rate_limit' change (org_id = the org,
        // payload = the limit or NULL) that every edge receives whatever its org scope: limits are not secret. A change
        // superseded by a later one for the same org is pruned; the snapshot carries every org's current limit.
        new(6, "org_rate_limits", """
            CREATE TABLE org_rate_limits (org_id TEXT PRIMARY KEY REFERENCES orgs(id), rate_limit TEXT NOT NULL,
              updated_at BIGINT NOT NULL, updated_by TEXT NULL);
            CREATE INDEX edge_changes_type_org ON edge_changes(type, org_id, seq);
            """,
            // The snapshot lists every org's limit: an owner-run function returning org ids and limits only. The edge feed
            // and pruning functions are replaced (same signatures) to send org_rate_limit changes to every edge.
            RlsFor("org_rate_limits") + """
            CREATE FUNCTION authio_org_rate_limits() RETURNS TABLE(org_id TEXT, rate_limit TEXT)
              LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
              AS $$ SELECT l.org_id, l.rate_limit FROM org_rate_limits l ORDER BY l.org_id $$;
            CREATE OR REPLACE FUNCTION authio_edge_changes(p_after BIGINT, p_limit BIGINT, p_all BOOLEAN, p_orgs TEXT[]) RETURNS SETOF edge_changes
              LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
              AS $$ SELECT * FROM edge_changes WHERE seq > p_after
                AND (org_id IS NULL OR type = 'org_rate_limit' OR p_all OR org_id = ANY(p_orgs))
                ORDER BY seq LIMIT p_limit $$;
            CREATE OR REPLACE FUNCTION authio_edge_prune(p_now BIGINT) RETURNS BIGINT
              LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
              AS $$
              DECLARE v_max BIGINT; v_count BIGINT;
              BEGIN
                SELECT MAX(seq) INTO v_max FROM edge_changes WHERE type = 'jwks';
                WITH gone AS (DELETE FROM edge_changes e WHERE (e.type = 'revocation' AND e.expires_at <= p_now) OR (e.type = 'jwks' AND e.seq < v_max)
                    OR (e.type = 'org_rate_limit' AND EXISTS (SELECT 1 FROM edge_changes n
                      WHERE n.type = 'org_rate_limit' AND n.org_id = e.org_id AND n.seq > e.seq))
                  RETURNING seq)
                SELECT COUNT(*), MAX(seq) INTO v_count, v_max FROM gone;
                IF v_count > 0 THEN
                  UPDATE edge_sync_state SET pruned_through = GREATEST(pruned_through, v_max) WHERE id = 1;
                END IF;
                DELETE FROM revocations WHERE expires_at <= p_now;
                RETURN v_count;
              END $$;
            REVOKE EXECUTE ON FUNCTION authio_org_rate_limits(), authio_edge_changes(BIGINT, BIGINT, BOOLEAN, TEXT[]),
              authio_edge_prune(BIGINT) FROM PUBLIC;
            """),
        // Per-org signing keys. signing_keys.org_id: the org whose tokens the key signs (NULL: a key from before per-org
        // rings, retired at start-up). org_data_keys: each org's data key sealed by the master key; the org's private keys
        // are sealed by it; readable only inside the org's transaction (RLS). signing_keys stays global (public halves and
        // sealed private halves: JWKS and the maintenance job read every org's), reached only through SigningKeyStore. Each change of an org's published keys appends an 'org_keys' change
        // (org_id NULL so every edge reads it, value = the org, NULL for the legacy keys; payload = that org's JWK set);
        // one superseded by a later one for the same org is pruned, and so is a whole-document 'jwks' change once a
        // legacy-keys change follows it.
        new(7, "org_signing_keys", """
            ALTER TABLE signing_keys ADD COLUMN org_id TEXT NULL;
            CREATE INDEX signing_keys_org ON signing_keys(org_id, created_at);
            CREATE TABLE org_data_keys (org_id TEXT PRIMARY KEY, sealed_key TEXT NOT NULL, created_at BIGINT NOT NULL,
              rotated_at BIGINT NULL);
            CREATE INDEX edge_changes_type_value ON edge_changes(type, value, seq);
            """,
            """
            CREATE OR REPLACE FUNCTION authio_edge_prune(p_now BIGINT) RETURNS BIGINT
              LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
              AS $$
              DECLARE v_max BIGINT; v_count BIGINT;
              BEGIN
                SELECT MAX(seq) INTO v_max FROM edge_changes WHERE type = 'jwks';
                WITH gone AS (DELETE FROM edge_changes e WHERE (e.type = 'revocation' AND e.expires_at <= p_now)
                    OR (e.type = 'jwks' AND (e.seq < v_max OR EXISTS (SELECT 1 FROM edge_changes n
                      WHERE n.type = 'org_keys' AND n.value IS NULL AND n.seq > e.seq)))
                    OR (e.type = 'org_rate_limit' AND EXISTS (SELECT 1 FROM edge_changes n
                      WHERE n.type = 'org_rate_limit' AND n.org_id = e.org_id AND n.seq > e.seq))
                    OR (e.type = 'org_keys' AND EXISTS (SELECT 1 FROM edge_changes n
                      WHERE n.type = 'org_keys' AND n.value IS NOT DISTINCT FROM e.value AND n.seq > e.seq))
                  RETURNING seq)
                SELECT COUNT(*), MAX(seq) INTO v_count, v_max FROM gone;
                IF v_count > 0 THEN
                  UPDATE edge_sync_state SET pruned_through = GREATEST(pruned_through, v_max) WHERE id = 1;
                END IF;
                DELETE FROM revocations WHERE expires_at <= p_now;
                RETURN v_count;
              END $$;
            REVOKE EXECUTE ON FUNCTION authio_edge_prune(BIGINT) FROM PUBLIC;
            """ + RlsFor("org_data_keys")),
        // Keyed audit chains, signed checkpoints and retention cuts, and lockout state per email key (known or not).
        // audit_mac_backfill holds one row until start-up has given the existing (unkeyed) events their MACs, once.
        // login_failures is global: keyed by an HMAC of the normalized email (no email stored), pruned by maintenance.
        new(11, "audit_seals_and_login_failures", """
            ALTER TABLE audit_events ADD COLUMN mac TEXT NULL;
            CREATE TABLE audit_seals (seq {SEQ}, org_id TEXT NOT NULL, kind TEXT NOT NULL, through_seq BIGINT NOT NULL,
              head_hash TEXT NOT NULL, total BIGINT NOT NULL, jws TEXT NOT NULL, created_at BIGINT NOT NULL);
            CREATE INDEX audit_seals_org ON audit_seals(org_id, kind, through_seq);
            CREATE TABLE audit_mac_backfill (id BIGINT PRIMARY KEY);
            INSERT INTO audit_mac_backfill (id) VALUES (1);
            CREATE TABLE login_failures (email_key TEXT PRIMARY KEY, failed_count BIGINT NOT NULL, window_start BIGINT NOT NULL,
              locked_until BIGINT NULL, updated_at BIGINT NOT NULL);
            CREATE INDEX login_failures_window ON login_failures(window_start);
            ALTER TABLE orgs ADD COLUMN is_operator BIGINT NOT NULL DEFAULT 0;
            UPDATE orgs SET is_operator = 1 WHERE id = (SELECT o.id FROM orgs o ORDER BY o.created_at, o.id LIMIT 1);
            """, RlsFor("audit_seals")),
        // The live-session gauge counts sessions of every org every 15 s: a partial index keeps that scan to sessions
        // not ended and seen recently, and on PostgreSQL an owner-run function returns the count (and nothing else)
        // across the row-level-security boundary. Idle timeouts are clamped as the service clamps them.
        new(12, "live_session_count", """
            CREATE INDEX sessions_live ON sessions(last_seen_at) WHERE ended_at IS NULL;
            """,
            """
            CREATE FUNCTION authio_live_session_count(p_now BIGINT, p_horizon BIGINT, p_default_idle BIGINT, p_min_idle BIGINT, p_max_idle BIGINT)
              RETURNS BIGINT LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
              AS $$ SELECT COUNT(*) FROM sessions s JOIN orgs o ON o.id = s.org_id
                WHERE s.ended_at IS NULL AND s.last_seen_at >= p_horizon
                  AND (s.access_expires_at > p_now OR p_now - s.last_seen_at <= CASE WHEN o.idle_timeout_seconds IS NULL THEN p_default_idle
                    ELSE LEAST(GREATEST(o.idle_timeout_seconds, p_min_idle), p_max_idle) * 1000 END) $$;
            REVOKE EXECUTE ON FUNCTION authio_live_session_count(BIGINT, BIGINT, BIGINT, BIGINT, BIGINT) FROM PUBLIC;
            """),
        // Fleet status: each edge's latest report, one row per edge id. Platform data, not org-scoped (no RLS): only the
        // operator reads it. Rows silent for 10 report intervals are pruned.
        new(13, "edges", """
            CREATE TABLE edges (id TEXT PRIMARY KEY, key_id TEXT NOT NULL, version TEXT NOT NULL, last_seen BIGINT NOT NULL,
              interval_ms BIGINT NOT NULL, report TEXT NOT NULL);
            CREATE INDEX edges_last_seen ON edges(last_seen);
            """, ""),
        // Second factors and the authentication context of sessions. mfa_totp and mfa_recovery_codes belong to a user (a
        // sign-in identity shared by the person's orgs), so like users they are visible to an org the person is a member
        // of; the TOTP secret is sealed by the master key (bound to the user id). mfa_challenges are the first steps of
        // two-step sign-ins (org-scoped: the org is chosen with the password). sessions remember how their user signed in
        // (amr, acr, auth_time), so refresh keeps it and step-up raises it; orgs get their MFA policy.
        new(14, "mfa", """
            CREATE TABLE mfa_totp (user_id TEXT PRIMARY KEY REFERENCES users(id), sealed_secret TEXT NOT NULL,
              confirmed_at BIGINT NULL, last_step BIGINT NULL, created_at BIGINT NOT NULL);
            CREATE TABLE mfa_recovery_codes (user_id TEXT NOT NULL REFERENCES users(id), code_hash TEXT NOT NULL,
              created_at BIGINT NOT NULL, used_at BIGINT NULL, PRIMARY KEY (user_id, code_hash));
            CREATE TABLE mfa_challenges (org_id TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT NOT NULL, ip TEXT NULL,
              user_agent TEXT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT NULL,
              failures BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (org_id, id));
            CREATE INDEX mfa_challenges_expiry ON mfa_challenges(expires_at);
            ALTER TABLE sessions ADD COLUMN amr TEXT NULL;
            ALTER TABLE sessions ADD COLUMN acr TEXT NULL;
            ALTER TABLE sessions ADD COLUMN auth_time BIGINT NULL;
            ALTER TABLE orgs ADD COLUMN mfa_policy TEXT NULL;
            """, RlsFor("mfa_challenges") + MemberOwned("mfa_totp") + MemberOwned("mfa_recovery_codes")),
        // Passkeys (WebAuthn): credentials belong to identities, not orgs (one passkey serves each of a person's orgs), and
        // discoverable sign-in reads them before any org is known, so neither table is org-scoped; they hold public keys
        // only. Challenges live here, not in memory, so any instance can complete a ceremony another one started.
        new(15, "passkeys", """
            CREATE TABLE passkey_credentials (id TEXT PRIMARY KEY, credential_id TEXT NOT NULL UNIQUE,
              user_id TEXT NOT NULL REFERENCES users(id), name TEXT NOT NULL, public_key TEXT NOT NULL, sign_count BIGINT NOT NULL,
              backup_eligible BIGINT NOT NULL, backed_up BIGINT NOT NULL, aaguid TEXT NOT NULL, attestation_format TEXT NOT NULL,
              transports TEXT NULL, created_at BIGINT NOT NULL, last_used_at BIGINT NULL);
            CREATE INDEX passkey_credentials_user ON passkey_credentials(user_id);
            CREATE TABLE passkey_challenges (id TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT NULL, options TEXT NOT NULL,
              expires_at BIGINT NOT NULL, created_at BIGINT NOT NULL);
            CREATE INDEX passkey_challenges_expiry ON passkey_challenges(expires_at);
            """, ""),
        // Webhooks and their durable outbox. webhook_deliveries rows are written in the transaction that appends the audit
        // event they announce, so no event is lost between its commit and its delivery. Both tables are org-scoped (RLS).
        // The delivery worker serves every org: an owner-run function claims due rows (FOR UPDATE SKIP LOCKED, so two
        // instances never take the same one) and returns what a delivery needs; results are written inside the org. Two
        // more owner-run functions answer whether anything is due (a read: an idle instance polls without writing) and
        // prune the delivery log (delivered and dead rows past Webhooks:LogRetention).
        new(16, "webhooks", """
            CREATE TABLE webhooks (org_id TEXT NOT NULL, id TEXT NOT NULL, url TEXT NOT NULL, events TEXT NOT NULL,
              enabled BIGINT NOT NULL, description TEXT NULL, sealed_secret TEXT NOT NULL, sealed_previous_secret TEXT NULL,
              previous_valid_until BIGINT NULL, created_by TEXT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
              PRIMARY KEY (org_id, id));
            CREATE UNIQUE INDEX webhooks_id ON webhooks(id);
            CREATE TABLE webhook_deliveries (seq {SEQ}, org_id TEXT NOT NULL, id TEXT NOT NULL UNIQUE, webhook_id TEXT NOT NULL,
              event_id TEXT NOT NULL, event TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL,
              attempts BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL, next_attempt_at BIGINT NOT NULL,
              lease_until BIGINT NOT NULL DEFAULT 0, last_attempt_at BIGINT NULL, last_status BIGINT NULL,
              last_duration_ms BIGINT NULL, last_error TEXT NULL, delivered_at BIGINT NULL);
            CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
            CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(org_id, webhook_id, seq);
            CREATE INDEX webhook_deliveries_created ON webhook_deliveries(created_at);
            """, RlsFor("webhooks") + RlsFor("webhook_deliveries") + """
            CREATE FUNCTION authio_webhook_claim(p_now BIGINT, p_lease_until BIGINT, p_limit BIGINT, p_per_endpoint BIGINT, p_skip TEXT[])
              RETURNS TABLE(org_id TEXT, id TEXT, webhook_id TEXT, event_id TEXT, payload TEXT, attempts BIGINT, created_at BIGINT,
                url TEXT, sealed_secret TEXT, sealed_previous_secret TEXT, previous_valid_until BIGINT)
              LANGUAGE sql SECURITY DEFINER SET search_path = public
              AS $$
              WITH candidates AS (
                SELECT d.seq, d.webhook_id FROM webhook_deliveries d
                JOIN webhooks w ON w.org_id = d.org_id AND w.id = d.webhook_id AND w.enabled = 1
                WHERE d.state = 'pending' AND d.next_attempt_at <= p_now AND d.lease_until <= p_now AND NOT (d.webhook_id = ANY(p_skip))
                ORDER BY d.next_attempt_at, d.seq LIMIT p_limit * 4 FOR UPDATE OF d SKIP LOCKED),
              picked AS (
                SELECT r.seq FROM (SELECT c.seq, ROW_NUMBER() OVER (PARTITION BY c.webhook_id ORDER BY c.seq) AS rn FROM candidates c) r
                WHERE r.rn <= p_per_endpoint ORDER BY r.seq LIMIT p_limit),
              claimed AS (
                UPDATE webhook_deliveries d SET lease_until = p_lease_until FROM picked WHERE d.seq = picked.seq
                RETURNING d.org_id, d.id, d.webhook_id, d.event_id, d.payload, d.attempts, d.created_at)
              SELECT c.org_id, c.id, c.webhook_id, c.event_id, c.payload, c.attempts, c.created_at,
                w.url, w.sealed_secret, w.sealed_previous_secret, w.previous_valid_until
              FROM claimed c JOIN webhooks w ON w.org_id = c.org_id AND w.id = c.webhook_id $$;
            CREATE FUNCTION authio_webhook_due(p_now BIGINT) RETURNS BOOLEAN
              LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
              AS $$ SELECT EXISTS (SELECT 1 FROM webhook_deliveries
                WHERE state = 'pending' AND next_attempt_at <= p_now AND lease_until <= p_now) $$;
            CREATE FUNCTION authio_webhook_prune(p_before BIGINT) RETURNS BIGINT
              LANGUAGE sql SECURITY DEFINER SET search_path = public
              AS $$ WITH gone AS (DELETE FROM webhook_deliveries WHERE state <> 'pending' AND created_at < p_before RETURNING 1)
                SELECT COUNT(*) FROM gone $$;
            REVOKE EXECUTE ON FUNCTION authio_webhook_claim(BIGINT, BIGINT, BIGINT, BIGINT, TEXT[]), authio_webhook_due(BIGINT),
              authio_webhook_prune(BIGINT) FROM PUBLIC;
            """),
        // When the last maintenance round started, fleet-wide: the instance whose timer fires first in an interval claims
        // the round with one conditional UPDATE; the others skip it (platform data, global).
        new(18, "maintenance_rounds", """
            CREATE TABLE maintenance_rounds (id BIGINT PRIMARY KEY, started_at BIGINT NOT NULL);
            INSERT INTO maintenance_rounds (id, started_at) VALUES (1, 0);
            """, ""),
        // Where each user signed in lately, for suspicious sign-in detection: network prefixes and user-agent digests only.
        // Identities are global (like users' second factors): every query names its user.
        new(19, "sign_in_history", """
            CREATE TABLE sign_in_history (user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, network TEXT NOT NULL,
              device TEXT NOT NULL, last_seen BIGINT NOT NULL, latitude DOUBLE PRECISION NULL, longitude DOUBLE PRECISION NULL,
              PRIMARY KEY (user_id, network, device));
            """, ""),
        // How far each audit stream has delivered each org's chain (platform data, global).
        new(20, "audit_stream_cursors", """
            CREATE TABLE audit_stream_cursors (stream TEXT NOT NULL, org_id TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (stream, org_id));
            """, ""),
        // Data-subject requests, and which instance delivers each audit stream (a lease, platform data). Audit events from here on hash their personal fields as salted commitments (chain format
        // 2, see AuditHashing) so an erasure can remove them without breaking the chain. data_exports holds an export,
        // sealed, until it is downloaded once or expires (org-scoped). Erasing an identity that belongs to no org any more
        // crosses the isolation boundary on purpose: one owner-run function deletes exactly that identity's global rows.
        new(21, "data_subject_requests", """
            ALTER TABLE audit_events ADD COLUMN format BIGINT NOT NULL DEFAULT 1;
            ALTER TABLE audit_events ADD COLUMN salts TEXT NULL;
            ALTER TABLE audit_events ADD COLUMN redacted TEXT NULL;
            CREATE TABLE data_exports (org_id TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT NOT NULL, requested_by TEXT NULL,
              state TEXT NOT NULL, sealed_content TEXT NULL, bytes BIGINT NOT NULL, records BIGINT NOT NULL, created_at BIGINT NOT NULL,
              expires_at BIGINT NOT NULL, downloaded_at BIGINT NULL, downloaded_by TEXT NULL, PRIMARY KEY (org_id, id));
            CREATE INDEX data_exports_expiry ON data_exports(expires_at);
            CREATE TABLE audit_stream_leases (stream TEXT PRIMARY KEY, holder TEXT NOT NULL, lease_until BIGINT NOT NULL);
            """, RlsFor("data_exports") + """
            CREATE FUNCTION authio_erase_identity(p_user_id TEXT) RETURNS BIGINT
              LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
              AS $$
              BEGIN
                IF EXISTS (SELECT 1 FROM memberships WHERE user_id = p_user_id) THEN
                  RETURN 0;
                END IF;
                DELETE FROM mfa_recovery_codes WHERE user_id = p_user_id;
                DELETE FROM mfa_totp WHERE user_id = p_user_id;
                DELETE FROM passkey_credentials WHERE user_id = p_user_id;
                DELETE FROM passkey_challenges WHERE user_id = p_user_id;
                DELETE FROM sign_in_history WHERE user_id = p_user_id;
                DELETE FROM users WHERE id = p_user_id;
                RETURN 1;
              END $$;
            CREATE FUNCTION authio_pseudonymise_edge_changes(p_user_id TEXT, p_pseudonym TEXT) RETURNS BIGINT
              LANGUAGE sql SECURITY DEFINER SET search_path = public
              AS $$ WITH u AS (UPDATE edge_changes SET value = p_pseudonym
                WHERE org_id = current_setting('app.org_id', true) AND type = 'revocation' AND kind = 'user_not_before' AND value = p_user_id
                RETURNING 1) SELECT COUNT(*) FROM u $$;
            CREATE FUNCTION authio_expire_data_exports(p_now BIGINT) RETURNS INTEGER
              LANGUAGE sql SECURITY DEFINER SET search_path = public
              AS $$ WITH u AS (UPDATE data_exports SET state = 'expired', sealed_content = NULL WHERE state = 'ready' AND expires_at <= p_now
                RETURNING 1) SELECT COUNT(*)::INTEGER FROM u $$;
            REVOKE EXECUTE ON FUNCTION authio_erase_identity(TEXT), authio_pseudonymise_edge_changes(TEXT, TEXT),
              authio_expire_data_exports(BIGINT) FROM PUBLIC;
            """),
        // An API key's rotation is pushed to edges ('api_key_changed', value = the key id, org-scoped like its
        // revocations), so they can cache key records for minutes; kept a day (expires_at), then pruned like revocations.
        new(22, "api_key_changes", """
            CREATE INDEX edge_changes_type_expiry ON edge_changes(type, expires_at);
            """, """
            CREATE OR REPLACE FUNCTION authio_edge_prune(p_now BIGINT) RETURNS BIGINT
              LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
              AS $$
              DECLARE v_max BIGINT; v_count BIGINT;
              BEGIN
                SELECT MAX(seq) INTO v_max FROM edge_changes WHERE type = 'jwks';
                WITH gone AS (DELETE FROM edge_changes e WHERE (e.type IN ('revocation', 'api_key_changed') AND e.expires_at <= p_now)
                    OR (e.type = 'jwks' AND (e.seq < v_max OR EXISTS (SELECT 1 FROM edge_changes n
                      WHERE n.type = 'org_keys' AND n.value IS NULL AND n.seq > e.seq)))
                    OR (e.type = 'org_rate_limit' AND EXISTS (SELECT 1 FROM edge_changes n
                      WHERE n.type = 'org_rate_limit' AND n.org_id = e.org_id AND n.seq > e.seq))
                    OR (e.type = 'org_keys' AND EXISTS (SELECT 1 FROM edge_changes n
                      WHERE n.type = 'org_keys' AND n.value IS NOT DISTINCT FROM e.value AND n.seq > e.seq))
                  RETURNING seq)
                SELECT COUNT(*), MAX(seq) INTO v_count, v_max FROM gone;
                IF v_count > 0 THEN
                  UPDATE edge_sync_state SET pruned_through = GREATEST(pruned_through, v_max) WHERE id = 1;
                END IF;
                DELETE FROM revocations WHERE expires_at <= p_now;
                RETURN v_count;
              END $$;
            REVOKE EXECUTE ON FUNCTION authio_edge_prune(BIGINT) FROM PUBLIC;
            """),
    ];

    public static string Sql(Migration m, Dialect dialect)
    {
        var seq = dialect == Dialect.Postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
        var sql = m.Common.Replace("{SEQ}", seq, StringComparison.Ordinal);
        if (dialect != Dialect.Postgres)
        {
            return sql;
        }

        var rls = m.Version == 1 ? string.Concat(OrgScopedTables.Select(RlsFor)) : "";
        return sql + "\n" + m.PostgresOnly + "\n" + rls;
    }

    /// <summary>A table of per-user rows (no org): visible and writable only to an org the user is a member of.</summary>
    private static string MemberOwned(string table) => $"""
        ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
        CREATE POLICY members_of_current_org ON {table}
          USING (EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = {table}.user_id AND m.org_id = current_setting('app.org_id', true)))
          WITH CHECK (EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = {table}.user_id AND m.org_id = current_setting('app.org_id', true)));

        """;

    private static string RlsFor(string table) => $"""
        ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
        CREATE POLICY org_isolation ON {table}
          USING (org_id = current_setting('app.org_id', true))
          WITH CHECK (org_id = current_setting('app.org_id', true));

        """;
}
