using System.Text;
using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.Tests.Authentication;

/// <summary>
/// The token cache keeps a token's shared beginning (header, <c>iss</c>, <c>aud</c>) once and the rest in its slab:
/// a hit still needs every byte of the token to match, wherever the bytes are kept.
/// </summary>
public sealed class TokenCacheLayoutTests
{
    private static readonly EdgeIdentity Identity = new() { Subject = "a", Scopes = [], ScopesHeader = "", AuthType = "jwt", ExpiresAt = long.MaxValue };

    /// <summary>A JWS-shaped token longer than a slab region, with the given header and payload, and a 86-character signature.</summary>
    private static byte[] Token(string header, string payload, int seed)
    {
        var signature = new string((char)('A' + seed % 26), 43) + seed.ToString("D43", System.Globalization.CultureInfo.InvariantCulture);
        return Encoding.ASCII.GetBytes($"{Base64(header)}.{Base64(payload)}.{signature}");
    }

    private static string Base64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private const string Header = """{"alg":"ES256","typ":"at+jwt","kid":"key-1"}""";

    private static string Payload(int user) =>
        $$"""{"iss":"https://id.example.test/","aud":"https://api.example.test","sub":"user_{{user:D6}}","org":"org_acme","sid":"sess_{{user:D6}}","jti":"{{user:D32}}","iat":1795952556,"nbf":1795952556,"exp":1795959756,"scope":"read:applications write:applications read:users"}""";

    [Fact]
    public void Tokens_of_one_issuer_share_their_beginning_and_every_byte_still_counts()
    {
        var cache = new TokenCache(4096);
        var tokens = Enumerable.Range(0, 1000).Select(i => Token(Header, Payload(i), i)).ToArray();
        Assert.All(tokens, t => Assert.True(t.Length > TokenCache.SlotBytes, "the test needs tokens longer than a slab region"));
        foreach (var token in tokens)
        {
            cache.Add(token, Identity);
        }

        Assert.InRange(cache.PrefixCount, 1, TokenPrefixes.MaxPerFamily);
        var cached = tokens.Where(t => cache.TryGet(t, out _)).ToArray();
        Assert.True(cached.Length > 900, $"{cached.Length} of 1000 tokens found");
        // One flipped bit anywhere (shared prefix, region or signature) and the token is not the cached one.
        var random = new Random(7);
        foreach (var token in cached.Take(50))
        {
            foreach (var position in new[] { 0, 40, 100, 150, 200, random.Next(token.Length), token.Length - 1 })
            {
                var other = (byte[])token.Clone();
                other[position] ^= 0x01;
                Assert.False(cache.TryGet(other, out _), $"a token differing at byte {position} of {token.Length} was taken for a cached one");
            }
        }
    }

    [Fact]
    public void Tokens_of_other_keys_and_tokens_too_long_for_a_region_are_cached_whole()
    {
        var cache = new TokenCache(1024);
        var a = Token(Header, Payload(1), 1);
        var b = Token("""{"alg":"ES256","typ":"at+jwt","kid":"key-2"}""", Payload(1), 1);
        var longClaims = Token(Header, Payload(2).Replace("\"scope\":\"", "\"scope\":\"" + string.Join(' ', Enumerable.Range(0, 60).Select(i => "read:thing" + i)) + " ",
            StringComparison.Ordinal), 2);
        var notJws = Encoding.ASCII.GetBytes(new string('x', 700));
        foreach (var token in new[] { a, b, longClaims, notJws })
        {
            cache.Add(token, Identity);
        }

        Assert.All(new[] { a, b, longClaims, notJws }, token => Assert.True(cache.TryGet(token, out _)));
        Assert.False(cache.TryGet(Token("""{"alg":"ES256","typ":"at+jwt","kid":"key-3"}""", Payload(1), 1), out _));
        var changed = (byte[])longClaims.Clone();
        changed[^1] ^= 0x01;
        Assert.False(cache.TryGet(changed, out _));
    }

    [Fact]
    public void The_prefix_tables_stay_bounded_however_many_keys_sign()
    {
        var prefixes = new TokenPrefixes();
        for (var key = 0; key < 200; key++)
        {
            for (var user = 0; user < 20; user++)
            {
                var token = Token($$"""{"alg":"ES256","typ":"at+jwt","kid":"key-{{key}}"}""", Payload(user * 7919), user);
                var prefix = prefixes.For(token);
                Assert.True(token.AsSpan().StartsWith(prefix) && prefix.Length < token.Length);
            }
        }
        Assert.InRange(prefixes.Count, 1, TokenPrefixes.MaxFamilies * TokenPrefixes.MaxPerFamily);
    }
}
