using System.Security.Cryptography;
using Authio.Shared.Sync;

namespace Authio.EdgeProxy.Sync;

/// <summary>
/// What this edge believes of Redis stream entries, from its last snapshot: with a feed key, only entries signed by it
/// (<see cref="EdgeFeedSignature"/>); without one (older control plane, or a key that could not be read) only
/// revocations, which can take access away but never grant it — everything else is read over HTTP.
/// </summary>
internal sealed class FeedTrust(ECDsa? key, string? kid)
{
    public static readonly FeedTrust RevocationsOnly = new(null, null);

    public ECDsa? Key => key;
    public string? KeyId => kid;
}

/// <summary>Why a stream entry was not applied (a metric tag and a log word; never the entry's content).</summary>
internal static class FeedRejectionReasons
{
    public const string Unsigned = "unsigned";
    public const string UnknownKey = "unknown_key";
    public const string BadSignature = "bad_signature";
    public const string SequenceMismatch = "sequence_mismatch";
    public const string Malformed = "malformed";
    /// <summary>The snapshot carried no feed key and the entry is not a revocation: it is taken from HTTP instead.</summary>
    public const string NotTrustedWithoutKey = "no_feed_key";
}

/// <summary>The first stream entry that failed verification; what follows it is read over HTTP.</summary>
internal sealed record FeedRejection(string EntryId, string Reason);
