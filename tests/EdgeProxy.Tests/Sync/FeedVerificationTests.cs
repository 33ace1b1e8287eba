using System.Security.Cryptography;
using System.Text;
using Authio.EdgeProxy.Sync;
using Authio.Shared.Sync;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Tests.Sync;

/// <summary>Which Redis stream entries an edge applies: only what the control plane's feed key signed, for the sequence it claims.</summary>
public sealed class FeedVerificationTests
{
    private static readonly ECDsa ControlPlaneKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly EdgeFeedKey Published = EdgeFeedSignature.PublicKeyOf(ControlPlaneKey);
    private static readonly FeedTrust Trust = new(EdgeFeedSignature.Import(Published), Published.Kid);

    private static string Change(long seq, string type = "jwks") => type == "jwks"
        ? $$$"""{"seq":{{{seq}}},"type":"jwks","revocation":null,"jwks":{"keys":[]}}"""
        : $$$"""{"seq":{{{seq}}},"type":"revocation","revocation":{"seq":{{{seq}}},"kind":"sid","value":"s","not_before":null,"expires_at":99999999999},"jwks":null}""";

    private static StreamEntry Entry(long id, string change, string? signature = null, string? kid = null)
    {
        var fields = new List<NameValueEntry> { new(EdgeSyncPaths.RedisChangeField, change) };
        if (signature is not null)
        {
            fields.Add(new(EdgeSyncPaths.RedisSignatureField, signature));
        }

        if (kid is not null)
        {
            fields.Add(new(EdgeSyncPaths.RedisKeyIdField, kid));
        }

        return new StreamEntry($"{id}-0", [.. fields]);
    }

    private static StreamEntry Signed(long id, string change, ECDsa? key = null) =>
        Entry(id, change, EdgeFeedSignature.Sign(key ?? ControlPlaneKey, Encoding.UTF8.GetBytes(change)), Published.Kid);

    [Fact]
    public void A_signed_entry_for_its_own_sequence_applies()
    {
        Assert.Null(RedisChangeFeed.Verify(Signed(7, Change(7)), Trust, out var change));
        Assert.Equal(7, change!.Sequence);
    }

    [Fact]
    public void Unsigned_foreign_signed_tampered_and_replayed_entries_are_refused()
    {
        using var attacker = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.Equal(FeedRejectionReasons.Unsigned, RedisChangeFeed.Verify(Entry(7, Change(7)), Trust, out _));
        Assert.Equal(FeedRejectionReasons.BadSignature, RedisChangeFeed.Verify(Signed(7, Change(7), attacker), Trust, out _));
        Assert.Equal(FeedRejectionReasons.UnknownKey, RedisChangeFeed.Verify(Entry(7, Change(7), EdgeFeedSignature.Sign(attacker, Encoding.UTF8.GetBytes(Change(7))), "other-kid"), Trust, out _));
        var genuine = Signed(7, Change(7));
        var tampered = Entry(7, Change(7).Replace("[]", "[{}]", StringComparison.Ordinal), (string)genuine[EdgeSyncPaths.RedisSignatureField]!, Published.Kid);
        Assert.Equal(FeedRejectionReasons.BadSignature, RedisChangeFeed.Verify(tampered, Trust, out _));
        // An old genuine entry re-added under a new id: signature fine, sequence not.
        Assert.Equal(FeedRejectionReasons.SequenceMismatch, RedisChangeFeed.Verify(Signed(9, Change(7)), Trust, out var replayed));
        Assert.Null(replayed);
    }

    [Fact]
    public void Without_a_feed_key_only_revocations_are_taken_from_redis()
    {
        Assert.Null(RedisChangeFeed.Verify(Entry(3, Change(3, "revocation")), FeedTrust.RevocationsOnly, out _));
        Assert.Equal(FeedRejectionReasons.NotTrustedWithoutKey, RedisChangeFeed.Verify(Entry(3, Change(3)), FeedTrust.RevocationsOnly, out var jwks));
        Assert.Null(jwks);
    }

    [Fact]
    public void A_feed_key_whose_id_does_not_match_its_bytes_is_not_used()
    {
        Assert.Null(EdgeFeedSignature.Import(Published with { Kid = "forged" }));
        Assert.Null(EdgeFeedSignature.Import(Published with { Algorithm = "HS256" }));
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var spki = p384.ExportSubjectPublicKeyInfo();
        Assert.Null(EdgeFeedSignature.Import(new EdgeFeedKey(EdgeFeedSignature.KeyIdOf(spki), "ES256", Convert.ToBase64String(spki))));
    }
}
