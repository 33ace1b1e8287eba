using Authio.Shared.ApiKeys;

namespace Authio.Shared.Tests.ApiKeys;

public sealed class ApiKeyFormatTests
{
    [Theory]
    [InlineData(ApiKeyEnvironment.Live, "sk_live_")]
    [InlineData(ApiKeyEnvironment.Test, "sk_test_")]
    public void Generated_keys_are_well_formed_and_unique(ApiKeyEnvironment environment, string prefix)
    {
        var keys = Enumerable.Range(0, 1000).Select(_ => ApiKeyFormat.Generate(environment)).ToArray();
        Assert.All(keys, key =>
        {
            Assert.StartsWith(prefix, key);
            Assert.Equal(ApiKeyFormat.PrefixLength + ApiKeyFormat.RandomLength + ApiKeyFormat.ChecksumLength, key.Length);
            Assert.True(ApiKeyFormat.IsWellFormed(key, out var parsed));
            Assert.Equal(environment, parsed);
        });
        Assert.Equal(keys.Length, keys.Distinct().Count());
    }

    [Fact]
    public void Every_single_character_typo_is_caught_by_the_checksum()
    {
        var key = ApiKeyFormat.Generate(ApiKeyEnvironment.Live);
        const string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        for (var i = ApiKeyFormat.PrefixLength; i < key.Length; i++)
        {
            foreach (var c in alphabet.Where(c => c != key[i]))
            {
                var typo = key[..i] + c + key[(i + 1)..];
                Assert.False(ApiKeyFormat.IsWellFormed(typo, out _), $"typo at {i} accepted");
            }
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("sk_live_")]
    [InlineData("sk_prod_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef000000")]
    [InlineData("pk_live_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef000000")]
    [InlineData("sk_live_0123456789ABCDEFGHIJKLMNOPQRSTUV-XYZabcdef000000")]
    [InlineData("sk_live_short000000")]
    public void Malformed_keys_are_rejected(string key) => Assert.False(ApiKeyFormat.IsWellFormed(key, out _));

    [Theory]
    [InlineData("sk_live_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef000000", true, ApiKeyEnvironment.Live)] // checksum not checked
    [InlineData("sk_test_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef000000", true, ApiKeyEnvironment.Test)]
    [InlineData("sk_prod_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef000000", false, ApiKeyEnvironment.Live)]
    [InlineData("sk_live_short000000", false, ApiKeyEnvironment.Live)]
    [InlineData("sk_live_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", false, ApiKeyEnvironment.Live)]
    public void The_environment_is_read_from_length_and_prefix_alone(string key, bool shaped, ApiKeyEnvironment environment)
    {
        Assert.Equal(shaped, ApiKeyFormat.TryReadEnvironment(key, out var read));
        if (shaped)
        {
            Assert.Equal(environment, read);
        }
        Assert.False(ApiKeyFormat.IsWellFormed(key, out _)); // none carries its checksum
    }

    [Fact]
    public void Swapped_prefix_fails_the_checksum()
    {
        var live = ApiKeyFormat.Generate(ApiKeyEnvironment.Live);
        Assert.False(ApiKeyFormat.IsWellFormed("sk_test_" + live[8..], out _));
    }

    [Fact]
    public void Digest_is_sha256_of_the_ascii_key()
    {
        var key = ApiKeyFormat.Generate(ApiKeyEnvironment.Test);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(key)), ApiKeyFormat.ComputeDigest(key));
        Assert.Equal(key[..12], ApiKeyFormat.DisplayPrefix(key));
    }
}
