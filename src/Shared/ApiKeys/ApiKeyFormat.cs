using System.Buffers;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace Authio.Shared.ApiKeys;

public enum ApiKeyEnvironment
{
    Live,
    Test,
}

/// <summary>
/// The API key format: <c>sk_live_</c> or <c>sk_test_</c>, then <see cref="RandomLength"/> base62 characters from a
/// CSPRNG (238 bits), then a <see cref="ChecksumLength"/>-character base62 CRC-32 of everything before it. The checksum
/// lets an edge reject mistyped and random keys with no lookup at all; it is not a secret and adds no security.
/// </summary>
public static class ApiKeyFormat
{
    public const string LivePrefix = "sk_live_";
    public const string TestPrefix = "sk_test_";
    public const int PrefixLength = 8;
    /// <summary>Generated keys carry 40 random characters: 40 × log2(62) ≈ 238 bits.</summary>
    public const int RandomLength = 40;
    /// <summary>Parsed keys need at least 32 random characters (≥ 190 bits).</summary>
    public const int MinRandomLength = 32;
    public const int MaxRandomLength = 64;
    /// <summary>62^6 ≈ 5.7e10 > 2^32, so any CRC-32 fits.</summary>
    public const int ChecksumLength = 6;
    public const int MinLength = PrefixLength + MinRandomLength + ChecksumLength;
    public const int MaxLength = PrefixLength + MaxRandomLength + ChecksumLength;
    public const int DigestLength = 32;
    /// <summary>Characters shown in listings to recognise a key: the prefix and the first 4 random characters.</summary>
    public const int DisplayPrefixLength = PrefixLength + 4;

    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static readonly SearchValues<char> Base62 = SearchValues.Create(Alphabet);

    public static string Generate(ApiKeyEnvironment environment)
    {
        Span<char> key = stackalloc char[PrefixLength + RandomLength + ChecksumLength];
        (environment == ApiKeyEnvironment.Live ? LivePrefix : TestPrefix).CopyTo(key);
        RandomNumberGenerator.GetItems(Alphabet, key.Slice(PrefixLength, RandomLength));
        WriteChecksum(key[..^ChecksumLength], key[^ChecksumLength..]);
        return new string(key);
    }

    /// <summary>Format and checksum only (no lookup, no allocation). Anything that fails here was never issued.</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> key, out ApiKeyEnvironment environment)
    {
        if (!TryReadEnvironment(key, out environment))
        {
            return false;
        }
        var body = key[PrefixLength..];
        if (body.IndexOfAnyExcept(Base62) >= 0)
        {
            return false;
        }
        Span<char> expected = stackalloc char[ChecksumLength];
        WriteChecksum(key[..^ChecksumLength], expected);
        return expected.SequenceEqual(key[^ChecksumLength..]);
    }

    /// <summary>
    /// The environment of <paramref name="key"/> when its length and prefix are a key's; its characters and checksum
    /// are not checked (<see cref="IsWellFormed"/> checks everything).
    /// </summary>
    public static bool TryReadEnvironment(ReadOnlySpan<char> key, out ApiKeyEnvironment environment)
    {
        environment = default;
        if (key.Length < MinLength || key.Length > MaxLength)
        {
            return false;
        }
        if (key.StartsWith(LivePrefix, StringComparison.Ordinal))
        {
            environment = ApiKeyEnvironment.Live;
            return true;
        }
        if (key.StartsWith(TestPrefix, StringComparison.Ordinal))
        {
            environment = ApiKeyEnvironment.Test;
            return true;
        }
        return false;
    }

    /// <summary>Whether <paramref name="credential"/> looks like an API key at all (so the caller picks the API-key path).</summary>
    public static bool HasApiKeyPrefix(ReadOnlySpan<char> credential) =>
        credential.StartsWith("sk_", StringComparison.Ordinal);

    /// <summary>SHA-256 of the key's ASCII bytes: the only form in which a key is ever stored or looked up.</summary>
    public static void ComputeDigest(ReadOnlySpan<char> key, Span<byte> digest)
    {
        Span<byte> ascii = stackalloc byte[MaxLength];
        var length = Encoding.ASCII.GetBytes(key, ascii);
        SHA256.HashData(ascii[..length], digest);
        CryptographicOperations.ZeroMemory(ascii);
    }

    public static byte[] ComputeDigest(string key)
    {
        var digest = new byte[DigestLength];
        ComputeDigest(key.AsSpan(), digest);
        return digest;
    }

    public static string DisplayPrefix(string key) => key[..Math.Min(DisplayPrefixLength, key.Length)];

    private static void WriteChecksum(ReadOnlySpan<char> keyWithoutChecksum, Span<char> destination)
    {
        Span<byte> ascii = stackalloc byte[MaxLength];
        var length = Encoding.ASCII.GetBytes(keyWithoutChecksum, ascii);
        var crc = Crc32.HashToUInt32(ascii[..length]);
        for (var i = ChecksumLength - 1; i >= 0; i--)
        {
            destination[i] = Alphabet[(int)(crc % 62)];
            crc /= 62;
        }
    }
}
