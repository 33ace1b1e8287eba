using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Users;
using Fido2NetLib;
using Fido2NetLib.Objects;

namespace Authio.ControlPlane.Passkeys;

/// <summary>A started ceremony: answer it with <c>challenge_id</c> and what the browser returns for <c>options</c>.</summary>
internal sealed record PasskeyOptionsView(
    [property: JsonPropertyName("challenge_id")] string ChallengeId,
    [property: JsonPropertyName("options")] JsonObject Options);

/// <summary>A registered passkey as its owner sees it: no key material.</summary>
internal sealed record PasskeyView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("last_used_at")] DateTimeOffset? LastUsedAt,
    [property: JsonPropertyName("sign_count")] long SignCount,
    [property: JsonPropertyName("backup_eligible")] bool BackupEligible,
    [property: JsonPropertyName("backed_up")] bool BackedUp);

/// <summary>Registration, listing and removal of the caller's own passkeys.</summary>
internal sealed partial class PasskeyService(
    PasskeyStore store, UserStore users, IFido2 fido, PasskeyAudit audit, TimeProvider time, ILogger<PasskeyService> logger)
{
    public const string RegisterKind = "register";

    public async Task<List<PasskeyView>> ListAsync(string userId, CancellationToken ct) =>
        (await store.ListAsync(userId, ct)).Select(View).ToList();

    /// <summary>Options for <c>navigator.credentials.create</c>: a discoverable credential, attestation <c>none</c>, the user's passkeys excluded.</summary>
    public async Task<Result<PasskeyOptionsView>> BeginRegistrationAsync(Caller caller, CancellationToken ct)
    {
        if (await users.GetInOrgAsync(caller.OrgId, caller.UserId, ct) is not { } user)
        {
            return Failure.Unauthorized();
        }

        var existing = await store.ListAsync(caller.UserId, ct);
        if (existing.Count >= PasskeyOptions.MaxPerUser)
        {
            return Failure.Conflict($"At most {PasskeyOptions.MaxPerUser} passkeys per user: remove one first.");
        }

        var options = fido.RequestNewCredential(new RequestNewCredentialParams
        {
            User = new Fido2User { Id = PasskeyWire.UserHandle(user.Id), Name = user.Email, DisplayName = user.Email },
            ExcludeCredentials = existing.Select(p => new PublicKeyCredentialDescriptor(PasskeyWire.Decode(p.CredentialId))).ToList(),
            AuthenticatorSelection = new AuthenticatorSelection
            {
                ResidentKey = ResidentKeyRequirement.Required,
                UserVerification = UserVerificationRequirement.Preferred,
            },
            AttestationPreference = AttestationConveyancePreference.None,
        });
        var json = options.ToJson();
        var now = time.GetUtcNow();
        var row = new PasskeyChallengeRow
        {
            Id = Ids.New("pkc"),
            Kind = RegisterKind,
            UserId = caller.UserId,
            Options = json,
            CreatedAt = now.ToUnixTimeMilliseconds(),
            ExpiresAt = (now + PasskeyOptions.ChallengeLifetime).ToUnixTimeMilliseconds(),
        };
        await store.InsertChallengeAsync(row, ct);
        return new PasskeyOptionsView(row.Id, JsonNode.Parse(json)!.AsObject());
    }

    /// <summary>Verifies the browser's attestation against the caller's challenge (consumed by any answer) and stores the credential.</summary>
    public async Task<Result<PasskeyView>> CompleteRegistrationAsync(Caller caller, string? challengeId, string? name, JsonElement? attestation, CancellationToken ct)
    {
        var label = string.IsNullOrWhiteSpace(name) ? "Passkey" : name.Trim();
        if (string.IsNullOrEmpty(challengeId))
        {
            return Failure.Invalid("challenge_id", "is required.");
        }

        var challenge = await store.TakeChallengeAsync(challengeId, ct);
        if (challenge is null || challenge.Kind != RegisterKind || challenge.UserId != caller.UserId
            || challenge.ExpiresAt < time.GetUtcNow().ToUnixTimeMilliseconds())
        {
            return PasskeyFailures.ChallengeInvalid();
        }

        if (PasskeyWire.Read<AuthenticatorAttestationRawResponse>(attestation) is not { } raw)
        {
            return PasskeyFailures.Invalid("attestation must be the browser's PublicKeyCredential (id, rawId, type, response.attestationObject, response.clientDataJSON) as JSON.");
        }

        RegisteredPublicKeyCredential credential;
        try
        {
            credential = await fido.MakeNewCredentialAsync(new MakeNewCredentialParams
            {
                AttestationResponse = raw,
                OriginalOptions = CredentialCreateOptions.FromJson(challenge.Options),
                // Checked below, so a credential registered already is a 409, not a verification failure.
                IsCredentialIdUniqueToUserCallback = (_, _) => Task.FromResult(true),
            }, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Hostile bytes reach a parser (CBOR, COSE, ASN.1) that signals bad input with many exception types: every
            // one of them is the client's error, never ours.
            Log.PayloadRejected(logger, "attestation", ex.GetType().Name, ex.Message);
            return PasskeyFailures.Invalid(ex is Fido2VerificationException ? "The attestation failed verification: " + ex.Message : "The attestation could not be read.");
        }

        var credentialId = PasskeyWire.Encode(credential.Id);
        if (await store.CredentialIdTakenAsync(credentialId, ct))
        {
            return Failure.Conflict("This passkey is already registered.");
        }

        var row = new PasskeyRow
        {
            Id = Ids.New("pk"),
            CredentialId = credentialId,
            UserId = caller.UserId,
            Name = label,
            PublicKey = PasskeyWire.Encode(credential.PublicKey),
            SignCount = credential.SignCount,
            BackupEligible = credential.IsBackupEligible ? 1 : 0,
            BackedUp = credential.IsBackedUp ? 1 : 0,
            Aaguid = credential.AaGuid.ToString(),
            AttestationFormat = credential.AttestationFormat ?? "none",
            Transports = credential.Transports is { Length: > 0 } t ? string.Join(',', t.Select(x => x.ToString())) : null,
            CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        bool stored;
        try
        {
            stored = await store.InsertAsync(row, PasskeyOptions.MaxPerUser, ct);
        }
        catch (DbException ex) when (Db.IsUniqueViolation(ex))
        {
            return Failure.Conflict("This passkey is already registered.");
        }

        if (!stored)
        {
            return Failure.Conflict($"At most {PasskeyOptions.MaxPerUser} passkeys per user: remove one first.");
        }

        await audit.RecordAsync(caller.UserId, new AuditEntry("", PasskeyAuditEvents.Registered)
        {
            ActorId = caller.UserId, SessionId = caller.SessionId, Ip = caller.Client.Ip, UserAgent = caller.Client.UserAgent,
            Details = new()
            {
                ["passkey_id"] = row.Id, ["name"] = row.Name, ["backup_eligible"] = credential.IsBackupEligible ? "true" : "false",
                ["aaguid"] = row.Aaguid, ["attestation_format"] = row.AttestationFormat,
            },
        }, ct);
        Log.Registered(logger, row.Id, caller.UserId);
        return View(row);
    }

    /// <summary>Removes one of the caller's passkeys; false when the caller has none with this id.</summary>
    public async Task<bool> RemoveAsync(Caller caller, string id, CancellationToken ct)
    {
        if (!await store.DeleteAsync(caller.UserId, id, ct))
        {
            return false;
        }

        await audit.RecordAsync(caller.UserId, new AuditEntry("", PasskeyAuditEvents.Removed)
        {
            ActorId = caller.UserId, SessionId = caller.SessionId, Ip = caller.Client.Ip, UserAgent = caller.Client.UserAgent,
            Details = new() { ["passkey_id"] = id },
        }, ct);
        Log.Removed(logger, id, caller.UserId);
        return true;
    }

    private static PasskeyView View(PasskeyRow r) => new(
        r.Id, r.Name, DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt),
        r.LastUsedAt is { } used ? DateTimeOffset.FromUnixTimeMilliseconds(used) : null, r.SignCount, r.BackupEligible == 1, r.BackedUp == 1);
}
