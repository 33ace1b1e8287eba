using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Authio.EdgeProxy.ApiKeys;
using Authio.Shared.ApiKeys;

namespace Authio.EdgeProxy.Tests.ApiKeys;

public sealed class ApiKeyDigestTests
{
    public delegate void Digest(ReadOnlySpan<byte> input, Span<byte> digest);

    /// <summary>What the edge uses (OpenSSL's block function where it loads, else the managed one) and the managed one itself.</summary>
    public static TheoryData<string> Implementations => ["edge", "managed"];

    private static Digest Of(string implementation) => implementation == "managed" ? ApiKeyDigest.ComputeManaged : ApiKeyDigest.Compute;

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Matches_the_platform_sha256_for_every_length_up_to_two_blocks(string implementation)
    {
        var compute = Of(implementation);
        var random = new Random(42);
        Span<byte> ours = stackalloc byte[32];
        for (var length = 0; length <= ApiKeyDigest.MaxInputLength; length++)
        {
            for (var round = 0; round < 20; round++)
            {
                var input = new byte[length];
                random.NextBytes(input);
                compute(input, ours);
                Assert.True(ours.SequenceEqual(SHA256.HashData(input)), $"length {length}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Matches_the_digest_the_control_plane_stores(string implementation)
    {
        var compute = Of(implementation);
        Span<byte> ours = stackalloc byte[32];
        foreach (var key in new[] { ApiKeyFormat.Generate(ApiKeyEnvironment.Live), ApiKeyFormat.Generate(ApiKeyEnvironment.Test) })
        {
            compute(System.Text.Encoding.ASCII.GetBytes(key), ours);
            Assert.True(ours.SequenceEqual(ApiKeyFormat.ComputeDigest(key)));
        }
        // FIPS 180-4 test vector "abc".
        compute("abc"u8, ours);
        Assert.Equal("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", Convert.ToHexString(ours));
    }

    [Fact]
    public void Uses_openssl_wherever_libcrypto_exports_the_sha256_functions()
    {
        var exported = false;
        foreach (var name in new[] { "libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.3.dylib" })
        {
            if (NativeLibrary.TryLoad(name, out var library))
            {
                exported |= NativeLibrary.TryGetExport(library, "SHA256_Final", out _);
            }
        }
        Assert.Equal(exported ? "openssl" : "managed", ApiKeyDigest.Implementation);
    }

    [Fact]
    public void Refuses_an_input_longer_than_an_api_key_can_be()
    {
        var digest = new byte[32];
        Assert.Throws<ArgumentException>(() => ApiKeyDigest.Compute(new byte[ApiKeyDigest.MaxInputLength + 1], digest));
        Assert.Throws<ArgumentException>(() => ApiKeyDigest.Compute(new byte[10], new byte[31]));
    }
}
