using System.IO.Hashing;
using System.Text;
using Authio.Shared.ApiKeys;
using CsCheck;

namespace Authio.Shared.Tests.ApiKeys;

/// <summary>Properties of the API-key format over generated keys of every allowed length, and over garbage.</summary>
public sealed class ApiKeyFormatPropertyTests
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>The format as documented, written independently: prefix, body, six base62 digits of the CRC-32 of both.</summary>
    private static string WithChecksum(string withoutChecksum)
    {
        var crc = Crc32.HashToUInt32(Encoding.ASCII.GetBytes(withoutChecksum));
        var digits = new char[ApiKeyFormat.ChecksumLength];
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            digits[i] = Base62[(int)(crc % 62)];
            crc /= 62;
        }
        return withoutChecksum + new string(digits);
    }

    private static readonly Gen<(string Key, ApiKeyEnvironment Environment)> Keys =
        Gen.Select(Gen.Enum<ApiKeyEnvironment>(), Gen.String[Gen.Char[Base62], ApiKeyFormat.MinRandomLength, ApiKeyFormat.MaxRandomLength],
            (environment, body) => (WithChecksum((environment == ApiKeyEnvironment.Live ? ApiKeyFormat.LivePrefix : ApiKeyFormat.TestPrefix) + body), environment));

    /// <summary>Replacement characters: base62 (a typo), the other separators, and beyond ASCII.</summary>
    private static readonly Gen<char> Replacements = Gen.OneOf(Gen.Char[Base62], Gen.OneOf('_', '-', ' ', '\0', 'é', '\u0130', '\uFFFF'));

    [Fact]
    public void Every_key_of_every_allowed_length_is_well_formed_in_its_environment() =>
        Keys.Sample(k =>
        {
            Assert.True(ApiKeyFormat.IsWellFormed(k.Key, out var environment), k.Key);
            Assert.Equal(k.Environment, environment);
        }, iter: 2000, threads: 1);

    [Fact]
    public void The_checksum_detects_every_single_character_change() =>
        Gen.Select(Keys, Gen.Int[0, ApiKeyFormat.MaxLength - 1], Replacements).Sample((k, at, replacement) =>
        {
            var position = at % k.Key.Length;
            if (k.Key[position] == replacement)
            {
                return;
            }
            var changed = k.Key.ToCharArray();
            changed[position] = replacement;
            Assert.False(ApiKeyFormat.IsWellFormed(changed, out _), $"{new string(changed)} (position {position})");
        }, iter: 20_000, threads: 1);

    [Fact]
    public void Garbage_is_refused_and_never_throws() =>
        Gen.OneOf(
                Gen.String[Gen.Char, 0, 100],
                Gen.Select(Gen.OneOf("sk_live_", "sk_test_", "sk_", "SK_LIVE_"), Gen.String[Gen.Char[Base62 + "_-é"], 0, 90], (p, s) => p + s))
            .Sample(text =>
            {
                ApiKeyFormat.HasApiKeyPrefix(text);
                if (ApiKeyFormat.IsWellFormed(text, out _))
                {
                    // Only a real checksum passes (one in 2^32 random bodies would): then it is the format's own.
                    Assert.Equal(WithChecksum(text[..^ApiKeyFormat.ChecksumLength]), text);
                }
            }, iter: 5000, threads: 1);
}
