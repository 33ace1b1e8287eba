using System.Security.Cryptography;
using Authio.EdgeProxy.ApiKeys;
using Authio.Shared.ApiKeys;

namespace Authio.EdgeProxy.Tests.ApiKeys;

public sealed class ApiKeyDigestTests
{
    [Fact]
    public void Matches_the_platform_sha256_for_every_length_up_to_two_blocks()
    {
        var random = new Random(42);
        Span<byte> ours = stackalloc byte[32];
        for (var length = 0; length <= ApiKeyDigest.MaxInputLength; length++)
        {
            for (var round = 0; round < 20; round++)
            {
                var input = new byte[length];
                random.NextBytes(input);
                ApiKeyDigest.Compute(input, ours);
                Assert.True(ours.SequenceEqual(SHA256.HashData(input)), $"length {length}");
            }
        }
    }

    [Fact]
    public void Matches_the_digest_the_control_plane_stores()
    {
        Span<byte> ours = stackalloc byte[32];
        foreach (var key in new[] { ApiKeyFormat.Generate(ApiKeyEnvironment.Live), ApiKeyFormat.Generate(ApiKeyEnvironment.Test) })
        {
            ApiKeyDigest.Compute(System.Text.Encoding.ASCII.GetBytes(key), ours);
            Assert.True(ours.SequenceEqual(ApiKeyFormat.ComputeDigest(key)));
        }
        // FIPS 180-4 test vector "abc".
        ApiKeyDigest.Compute("abc"u8, ours);
        Assert.Equal("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", Convert.ToHexString(ours));
    }
}
