using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Keys;

namespace Authio.EdgeProxy.Tokens;

/// <summary>
/// Validates a compact JWS access token over its bytes (RFC 7515, 7519, 8725) in one pass per segment, allocating
/// nothing: segments are decoded into stack buffers, claims are read with one <see cref="Utf8JsonReader"/> pass
/// that validates as it reads, and the signature is verified before any payload claim is looked at.
/// </summary>
internal sealed partial class JwtValidator
{
    /// <summary>Token buffers up to this size live on the stack; larger ones (if MaxTokenBytes allows) come from ArrayPool.</summary>
    public const int StackallocLimit = 8192;
    /// <summary>A header segment longer than this is refused: real headers are under 300 characters.</summary>
    private const int MaxHeaderSegmentLength = 1024;
    /// <summary>1 024 signature bytes (RSA-8192) encode to 1 366 characters.</summary>
    private const int MaxSignatureSegmentLength = 1366;
    private const int MaxKidBytes = 256;
    private const int MaxHeaderMembers = 32;
    private const int MaxPayloadMembers = 128;
    /// <summary>Without a kid, at most this many compatible keys are tried, so a kid-less token cannot cost a verify per key.</summary>
    private const int MaxKeylessCandidates = 4;
    private const int ClaimScratchBytes = 512;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 16 };

    private readonly IssuerRegistry _registry;
    private readonly TimeProvider _time;
    private readonly long _skewSeconds;
    private readonly byte[][] _allowedTypes;
    private readonly StageMetrics? _metrics;

    public JwtValidator(IssuerRegistry registry, TimeProvider time, EdgeTokenOptions options, EdgeMetrics? metrics = null)
    {
        _registry = registry;
        _metrics = metrics?.Stages;
        _time = time;
        _skewSeconds = (long)options.ClockSkew.TotalSeconds;
        MaxTokenBytes = options.MaxTokenBytes;
        _allowedTypes = (options.AllowedTypes is { Count: > 0 } types ? types : [.. EdgeTokenOptions.DefaultAllowedTypes])
            .Select(Encoding.ASCII.GetBytes).ToArray();
    }

    public int MaxTokenBytes { get; }

    public long SkewSeconds => _skewSeconds;

    private long _signatureChecks;

    /// <summary>Tokens that reached key lookup and signature verification (a diagnostic and test hook; replays served from a cache never do).</summary>
    public long SignatureChecks => Interlocked.Read(ref _signatureChecks);

    /// <summary>The payload buffer a caller must pass for <paramref name="tokenLength"/> bytes of token.</summary>
    public static int PayloadBufferSize(int tokenLength) => Base64UrlStrict.MaxDecodedLength(tokenLength);

    /// <summary>
    /// Validates <paramref name="token"/>. On success <paramref name="claims"/> holds slices into
    /// <paramref name="payloadBuffer"/>, which receives the decoded payload.
    /// </summary>
    public bool TryValidate(ReadOnlySpan<byte> token, Span<byte> payloadBuffer, out JwtClaims claims, out EdgeError? error) =>
        TryValidate(token, payloadBuffer, out claims, out error, out _);

    /// <summary>
    /// As above; <paramref name="signatureVerified"/> tells a failure of a token a trusted key signed (a claim check:
    /// expired, audience, …) from one nobody trusted signed (bad signature, unknown key, garbage).
    /// </summary>
    public bool TryValidate(ReadOnlySpan<byte> token, Span<byte> payloadBuffer, out JwtClaims claims, out EdgeError? error, out bool signatureVerified)
    {
        claims = default;
        var key = VerifySignature(token, out var payloadStart, out var payloadEnd, out error);
        signatureVerified = key is not null;
        if (key is null)
        {
            return false;
        }
        var payloadSegment = token[payloadStart..payloadEnd];
        if (payloadBuffer.Length < Base64UrlStrict.MaxDecodedLength(payloadSegment.Length))
        {
            throw new ArgumentException("Payload buffer is smaller than PayloadBufferSize(token.Length).", nameof(payloadBuffer));
        }
        if (!Base64UrlStrict.TryDecode(payloadSegment, payloadBuffer, out var payloadLength))
        {
            error = EdgeError.Malformed;
            return false;
        }
        claims.Key = key;
        claims.PayloadLength = payloadLength;
        error = ParsePayload(payloadBuffer[..payloadLength], key.Issuer, ref claims);
        if (error is null && key.OrgUtf8 is { } keyOrg && !OrgEquals(payloadBuffer[..payloadLength], claims.Org, keyOrg))
        {
            // A key bound to an org (the control plane's per-org keys) speaks for that org only, however valid the signature.
            error = EdgeError.KeyOrgMismatch;
        }
        return error is null;
    }

    /// <summary>Whether the <c>org</c> claim (a raw JSON string slice, maybe escaped) equals <paramref name="expected"/>; allocation-free.</summary>
    [SkipLocalsInit]
    private static bool OrgEquals(ReadOnlySpan<byte> payload, JsonSlice org, byte[] expected)
    {
        if (!org.IsPresent)
        {
            return false;
        }
        var reader = new Utf8JsonReader(payload.Slice(org.Start, org.Length));
        if (!reader.Read() || reader.TokenType != JsonTokenType.String)
        {
            return false;
        }
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan.SequenceEqual(expected);
        }
        Span<byte> buffer = stackalloc byte[ClaimScratchBytes];
        return reader.ValueSpan.Length <= buffer.Length && buffer[..reader.CopyString(buffer)].SequenceEqual(expected);
    }

    /// <summary>
    /// The JWS layer alone: structure, header rules and signature. Returns the verifying key, or null with the
    /// reason. The payload is not looked at until its signature is known good.
    /// </summary>
    [SkipLocalsInit]
    internal SigningKey? VerifySignature(ReadOnlySpan<byte> token, out int payloadStart, out int payloadEnd, out EdgeError? error)
    {
        payloadStart = payloadEnd = 0;
        if (token.Length > MaxTokenBytes)
        {
            error = EdgeError.TokenTooLarge;
            return null;
        }
        var firstDot = token.IndexOf((byte)'.');
        var secondDot = firstDot < 0 ? -1 : token[(firstDot + 1)..].IndexOf((byte)'.') + firstDot + 1;
        if (firstDot <= 0 || secondDot <= firstDot + 1 || token[(secondDot + 1)..].Contains((byte)'.'))
        {
            error = EdgeError.Malformed;
            return null;
        }
        var headerSegment = token[..firstDot];
        var signatureSegment = token[(secondDot + 1)..];

        Span<byte> header = stackalloc byte[Base64UrlStrict.MaxDecodedLength(MaxHeaderSegmentLength)];
        if (headerSegment.Length > MaxHeaderSegmentLength || !Base64UrlStrict.TryDecode(headerSegment, header, out var headerLength))
        {
            error = EdgeError.Malformed;
            return null;
        }
        Span<byte> kidBuffer = stackalloc byte[MaxKidBytes];
        error = ParseHeader(header[..headerLength], kidBuffer, out var alg, out var kidLength);
        if (error is not null)
        {
            return null;
        }
        if (signatureSegment.Length == 0 || signatureSegment.Length > MaxSignatureSegmentLength)
        {
            error = EdgeError.BadSignature;
            return null;
        }
        Span<byte> signature = stackalloc byte[Base64UrlStrict.MaxDecodedLength(MaxSignatureSegmentLength)];
        if (!Base64UrlStrict.TryDecode(signatureSegment, signature, out var signatureLength))
        {
            error = EdgeError.Malformed;
            return null;
        }
        var kid = kidLength >= 0 ? kidBuffer[..kidLength] : default;
        payloadStart = firstDot + 1;
        payloadEnd = secondDot;
        return FindAndVerify(alg!, kid, kidLength >= 0, token[..secondDot], signature[..signatureLength], out error);
    }

    private SigningKey? FindAndVerify(JwsAlgorithm alg, ReadOnlySpan<byte> kid, bool hasKid,
        ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature, out EdgeError? error)
    {
        Interlocked.Increment(ref _signatureChecks);
        var index = _registry.Index;
        if (alg.Family == KeyFamily.Hmac)
        {
            // HS256 only ever uses a configured shared secret, never a JWKS key: no algorithm confusion is possible.
            foreach (var secret in index.Hmac)
            {
                if (secret.Verify(alg, signingInput, signature))
                {
                    _metrics?.SignatureVerified(alg, valid: true);
                    error = null;
                    return secret;
                }
            }
            if (index.Hmac.Length == 0)
            {
                error = EdgeError.AlgorithmNotAllowed;
                return null;
            }
            _metrics?.SignatureVerified(alg, valid: false);
            error = EdgeError.BadSignature;
            return null;
        }

        var kidMatched = false;
        var attempts = 0;
        if (hasKid)
        {
            // O(1) by kid, whatever the number of keys (the control plane publishes every org's).
            foreach (var key in index.Candidates(kid))
            {
                if (!kid.SequenceEqual(key.KidUtf8))
                {
                    continue;
                }
                kidMatched = true;
                if (!key.Accepts(alg) || !key.Issuer.Allows(alg))
                {
                    continue;
                }
                attempts++;
                if (key.Verify(alg, signingInput, signature))
                {
                    _metrics?.SignatureVerified(alg, valid: true);
                    error = null;
                    return key;
                }
            }
        }
        else
        {
            foreach (var key in index.Asymmetric)
            {
                if (!key.Accepts(alg) || !key.Issuer.Allows(alg))
                {
                    continue;
                }
                if (attempts == MaxKeylessCandidates)
                {
                    break;
                }
                attempts++;
                if (key.Verify(alg, signingInput, signature))
                {
                    _metrics?.SignatureVerified(alg, valid: true);
                    error = null;
                    return key;
                }
            }
        }
        if (attempts > 0)
        {
            _metrics?.SignatureVerified(alg, valid: false); // one per token, however many candidate keys were tried
        }
        error = attempts > 0 ? EdgeError.BadSignature
            : hasKid && kidMatched ? EdgeError.AlgorithmNotAllowed
            : hasKid ? EdgeError.UnknownKey
            : EdgeError.KidRequired;
        return null;
    }

    [SkipLocalsInit]
    private EdgeError? ParseHeader(ReadOnlySpan<byte> json, Span<byte> kidBuffer, out JwsAlgorithm? alg, out int kidLength)
    {
        alg = null;
        kidLength = -1;
        Span<byte> nameArena = stackalloc byte[512];
        Span<int> nameEnds = stackalloc int[MaxHeaderMembers];
        var nameCount = 0;
        Span<byte> scratch = stackalloc byte[64];
        try
        {
            scoped Utf8JsonReader reader = new(json, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return EdgeError.MalformedHeader;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!MemberNames.TryAdd(ref reader, nameArena, nameEnds, ref nameCount))
                {
                    return EdgeError.DuplicateMember;
                }
                if (reader.ValueTextEquals("alg"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                    {
                        return EdgeError.MalformedHeader;
                    }
                    // "none", "None", "NONE" and every unknown name fall through to null: never accepted.
                    alg = TryUnescape(ref reader, scratch, out var name) ? JwsAlgorithm.FromUtf8(name) : null;
                    if (alg is null)
                    {
                        return EdgeError.AlgorithmNotAllowed;
                    }
                }
                else if (reader.ValueTextEquals("kid"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String || reader.ValueSpan.Length > kidBuffer.Length)
                    {
                        return EdgeError.MalformedHeader;
                    }
                    kidLength = reader.CopyString(kidBuffer);
                }
                else if (reader.ValueTextEquals("typ"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                    {
                        return EdgeError.MalformedHeader;
                    }
                    if (!TryUnescape(ref reader, scratch, out var typ) || !IsAllowedType(typ))
                    {
                        return EdgeError.TypeNotAllowed;
                    }
                }
                else if (reader.ValueTextEquals("crit"u8))
                {
                    // This edge implements no header extension, so any crit (RFC 7515 §4.1.11) is unknown.
                    return EdgeError.CriticalHeader;
                }
                else
                {
                    // jwk, jku, x5u, x5c and the rest are ignored: key material never comes from the token.
                    reader.Read();
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return EdgeError.MalformedHeader;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException) // malformed JSON or invalid UTF-8 in an escaped string
        {
            return EdgeError.MalformedHeader;
        }
        return alg is null ? EdgeError.MalformedHeader : null;
    }

    private bool IsAllowedType(ReadOnlySpan<byte> typ)
    {
        foreach (var allowed in _allowedTypes)
        {
            if (Ascii.EqualsIgnoreCase(typ, allowed))
            {
                return true;
            }
        }
        return false;
    }

    private static bool TryUnescape(ref Utf8JsonReader reader, Span<byte> scratch, out ReadOnlySpan<byte> value)
    {
        if (!reader.ValueIsEscaped)
        {
            value = reader.ValueSpan;
            return true;
        }
        if (reader.ValueSpan.Length > scratch.Length)
        {
            value = default;
            return false;
        }
        value = scratch[..reader.CopyString(scratch)];
        return true;
    }

    private static bool IsValidUtf8(ReadOnlySpan<byte> value) => Utf8.IsValid(value);
}
