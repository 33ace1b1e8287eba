using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;
using Authio.Shared.Sync;

namespace Authio.EdgeProxy.Sync;

/// <summary>
/// What the edge requires of a feed record before applying it. The serializer leaves a member the JSON lacks (or sets
/// to null) null whatever the contract's nullability, and does not check the bytes inside a <see cref="JsonElement"/>'s
/// strings; either used to surface later as an exception from the middle of applying a batch, which ended the sync
/// loop. A record that fails here is malformed: over HTTP the loop backs off and reads again, from Redis the entry is
/// refused and the range read over HTTP.
/// </summary>
internal static class FeedRecords
{
    /// <summary>Throws <see cref="JsonException"/> (what the sync loop expects of a bad answer) when the snapshot is incomplete.</summary>
    public static EdgeSnapshot EnsureComplete(EdgeSnapshot snapshot) =>
        snapshot.Issuer is { Issuer: not null, Audiences: { } audiences } issuer && !audiences.Contains(null!) && IsText(issuer.Jwks)
        && snapshot.Revocations is { } revocations && revocations.All(IsComplete)
        && (snapshot.OrgSettings is null || snapshot.OrgSettings.All(IsComplete))
        && snapshot.FeedKey is null or { Kid: not null, Algorithm: not null, PublicKey: not null }
            ? snapshot
            : throw new JsonException("The control plane's snapshot lacks a required member or holds text that is not UTF-8.");

    /// <summary>As above, for a batch of changes.</summary>
    public static EdgeChangeBatch EnsureComplete(EdgeChangeBatch batch) =>
        batch.Changes is { } changes && changes.All(IsComplete)
            ? batch
            : throw new JsonException("The control plane's change batch lacks a required member or holds text that is not UTF-8.");

    public static bool IsComplete([NotNullWhen(true)] EdgeChange? change) =>
        change is not null
        && (change.Revocation is null || IsComplete(change.Revocation))
        && (change.OrgSettings is null || IsComplete(change.OrgSettings))
        && (change.Jwks is not { } jwks || IsText(jwks))
        && (change.OrgKeys is null || IsText(change.OrgKeys.Jwks));

    private static bool IsComplete(RevocationRecord? record) => record is { Kind: not null, Value: not null };

    private static bool IsComplete(EdgeOrgSettings? settings) => settings is { OrgId: not null };

    /// <summary>Valid UTF-8 throughout (an absent element is fine: the key-set code refuses it with a reason).</summary>
    private static bool IsText(JsonElement element) =>
        element.ValueKind == JsonValueKind.Undefined || Utf8.IsValid(JsonMarshal.GetRawUtf8Value(element));
}
