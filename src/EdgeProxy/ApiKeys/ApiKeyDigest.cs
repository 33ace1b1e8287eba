using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Authio.EdgeProxy.ApiKeys;

/// <summary>
/// SHA-256 (FIPS 180-4) of an API key, on the stack, for the cached-key check of every API-key request. The platform's
/// one-shot <c>SHA256.HashData</c> goes through OpenSSL's EVP layer, whose per-call context fetch and setup cost more
/// than the hash of a 54-byte key (bench: ApiKeyBenchmarks). OpenSSL's own SHA-256 block function (SHA-NI where the CPU
/// has it) is reached directly instead, through <c>SHA256_Init/Update/Final</c> on a stack context; where libcrypto or
/// those exports are missing, or its answer to a known input is wrong, a managed implementation of at most two 64-byte
/// blocks answers. Tests check both against the platform on random inputs of every supported length.
/// </summary>
internal static unsafe class ApiKeyDigest
{
    /// <summary>Longest input that fits two blocks with padding (128 − 1 − 8): the managed path's limit, kept for both.</summary>
    public const int MaxInputLength = 119;

    /// <summary>Stack room for OpenSSL's <c>SHA256_CTX</c> (112 bytes in 1.1 and 3.x).</summary>
    private const int OpenSslContextBytes = 128;

    /// <summary>libcrypto sonames tried in turn (OpenSSL 3, then 1.1, which exports the same functions).</summary>
    private static readonly string[] LibCryptoNames = ["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.3.dylib"];

    // Short, non-blocking, never call back: no GC transition needed around them.
    private static readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int> s_init;
    private static readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, byte*, nuint, int> s_update;
    private static readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, byte*, int> s_final;

    static ApiKeyDigest()
    {
        foreach (var name in LibCryptoNames)
        {
            if (NativeLibrary.TryLoad(name, out var library)
                && NativeLibrary.TryGetExport(library, "SHA256_Init", out var init)
                && NativeLibrary.TryGetExport(library, "SHA256_Update", out var update)
                && NativeLibrary.TryGetExport(library, "SHA256_Final", out var final))
            {
                s_init = (delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int>)init;
                s_update = (delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, byte*, nuint, int>)update;
                s_final = (delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, byte*, int>)final;
                if (OpenSslAgreesWithManaged())
                {
                    Implementation = "openssl";
                    return;
                }
                s_final = null;
            }
        }
        Implementation = "managed";
    }

    /// <summary>Which SHA-256 this process uses for API keys: <c>openssl</c> or <c>managed</c>.</summary>
    public static string Implementation { get; }

    /// <summary>The digest of <paramref name="input"/> (at most <see cref="MaxInputLength"/> bytes) into the first 32 bytes of <paramref name="digest"/>.</summary>
    public static void Compute(ReadOnlySpan<byte> input, Span<byte> digest)
    {
        if (input.Length > MaxInputLength || digest.Length < 32)
        {
            throw new ArgumentException("API keys are at most 119 bytes; the digest needs 32 bytes.");
        }
        if (s_final != null)
        {
            ComputeOpenSsl(input, digest);
        }
        else
        {
            ComputeManaged(input, digest);
        }
    }

    [SkipLocalsInit]
    private static void ComputeOpenSsl(ReadOnlySpan<byte> input, Span<byte> digest)
    {
        var context = stackalloc byte[OpenSslContextBytes];
        fixed (byte* data = input)
        fixed (byte* output = digest)
        {
            s_init(context);
            s_update(context, data, (nuint)input.Length);
            s_final(output, context);
        }
        // The context held the key's last block.
        CryptographicOperations.ZeroMemory(new Span<byte>(context, OpenSslContextBytes));
    }

    /// <summary>Checked once at load, on every length a key can have: a libcrypto that answers differently is not used.</summary>
    private static bool OpenSslAgreesWithManaged()
    {
        Span<byte> input = stackalloc byte[MaxInputLength];
        Span<byte> theirs = stackalloc byte[32];
        Span<byte> ours = stackalloc byte[32];
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (byte)(i * 31 + 7);
        }
        for (var length = 0; length <= MaxInputLength; length++)
        {
            ComputeOpenSsl(input[..length], theirs);
            ComputeManaged(input[..length], ours);
            if (!theirs.SequenceEqual(ours))
            {
                return false;
            }
        }
        return true;
    }

    private static ReadOnlySpan<uint> K =>
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    /// <summary>The managed SHA-256 (no libcrypto): every input up to <see cref="MaxInputLength"/> bytes.</summary>
    [SkipLocalsInit]
    internal static void ComputeManaged(ReadOnlySpan<byte> input, Span<byte> digest)
    {
        var blocks = input.Length + 9 <= 64 ? 1 : 2;
        Span<byte> message = stackalloc byte[128];
        message = message[..(blocks * 64)];
        input.CopyTo(message);
        message[input.Length] = 0x80;
        message[(input.Length + 1)..^8].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(message[^8..], (ulong)input.Length * 8);

        Span<uint> state = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
        Span<uint> w = stackalloc uint[64];
        for (var b = 0; b < blocks; b++)
        {
            Compress(state, message.Slice(b * 64, 64), w);
        }
        for (var i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(digest[(i * 4)..], state[i]);
        }
    }

    private static void Compress(Span<uint> state, ReadOnlySpan<byte> block, Span<uint> w)
    {
        for (var i = 0; i < 16; i++)
        {
            w[i] = BinaryPrimitives.ReadUInt32BigEndian(block[(i * 4)..]);
        }
        for (var i = 16; i < 64; i++)
        {
            var s0 = BitOperations.RotateRight(w[i - 15], 7) ^ BitOperations.RotateRight(w[i - 15], 18) ^ (w[i - 15] >> 3);
            var s1 = BitOperations.RotateRight(w[i - 2], 17) ^ BitOperations.RotateRight(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
        var k = K;
        for (var i = 0; i < 64; i++)
        {
            var t1 = h + (BitOperations.RotateRight(e, 6) ^ BitOperations.RotateRight(e, 11) ^ BitOperations.RotateRight(e, 25))
                + ((e & f) ^ (~e & g)) + k[i] + w[i];
            var t2 = (BitOperations.RotateRight(a, 2) ^ BitOperations.RotateRight(a, 13) ^ BitOperations.RotateRight(a, 22))
                + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}
