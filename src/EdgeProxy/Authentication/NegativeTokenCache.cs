using System.IO.Hashing;
using Authio.EdgeProxy.Errors;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// Correctly signed tokens that failed a claim check (expired, not yet valid, wrong audience or issuer, key-org
/// mismatch, revoked), remembered with their answer until the reason can change, so a replay costs a hash and a byte
/// comparison instead of a signature check, and answers exactly what the first check answered.
/// Same shape as <see cref="TokenCache"/>: a fixed, 2-way set-associative array keyed by a per-process seeded XxHash3,
/// bounded by construction, lock-free, 0 B on a hit.
/// Byte-exact on purpose: an entry keeps the token's bytes and a hit needs constant-time equality with them. A keyed
/// 256-bit digest (HMAC-SHA256) would keep less memory but cost more per lookup than the whole replay answer
/// (NegativeCacheBenchmarks, bench/README.md); the memory is bounded anyway, and only tokens a trusted key signed ever get in (an attacker
/// cannot fill it with made-up tokens: those fail the signature and are charged to the failure budget instead).
/// </summary>
internal sealed class NegativeTokenCache
{
    /// <summary>Tokens longer than this are not remembered (bounds memory at capacity × 4 KB; real tokens are &lt; 2 KB).</summary>
    public const int MaxTokenBytes = 4096;

    private readonly Entry?[] _slots;
    private readonly int _mask;
    private readonly long _seed = TokenTables.NewSeed();

    /// <summary>A cache of <paramref name="capacity"/> entries (rounded up to a power of two); 0 makes the disabled cache, which never holds anything.</summary>
    public NegativeTokenCache(int capacity)
    {
        _slots = new Entry?[TokenTables.SizeFor(capacity)];
        _mask = Math.Max(0, _slots.Length - 1);
    }

    public int Capacity => _slots.Length;

    /// <summary>The remembered answer for <paramref name="token"/>, while it still holds at <paramref name="nowUnix"/>.</summary>
    public bool TryGet(ReadOnlySpan<byte> token, long nowUnix, out EdgeError? error)
    {
        if (_slots.Length == 0)
        {
            error = null;
            return false;
        }
        var hash = XxHash3.HashToUInt64(token, _seed);
        var index = (int)hash & _mask;
        if (Matches(_slots[index], hash, token, nowUnix, out error) || Matches(_slots[index ^ 1], hash, token, nowUnix, out error))
        {
            return true;
        }
        error = null;
        return false;
    }

    /// <summary>Remembers <paramref name="error"/> for <paramref name="token"/> until <paramref name="untilUnix"/> (exclusive).</summary>
    public void Add(ReadOnlySpan<byte> token, EdgeError error, long untilUnix, long nowUnix)
    {
        if (untilUnix <= nowUnix || token.Length > MaxTokenBytes || _slots.Length == 0)
        {
            return;
        }
        var hash = XxHash3.HashToUInt64(token, _seed);
        var index = (int)hash & _mask;
        var first = Volatile.Read(ref _slots[index]);
        var second = Volatile.Read(ref _slots[index ^ 1]);
        // Fill an empty or lapsed way, else replace the one whose answer lapses first.
        var target = first is null || first.Until <= nowUnix ? index
            : second is null || second.Until <= nowUnix ? index ^ 1
            : first.Until <= second.Until ? index : index ^ 1;
        Volatile.Write(ref _slots[target], new Entry(hash, token.ToArray(), error, untilUnix));
    }

    public void Clear() => Array.Clear(_slots);

    /// <summary>
    /// Sheds memory (the memory monitor): drops lapsed answers, then others in slot order until at most
    /// <paramref name="keepFraction"/> of <see cref="Capacity"/> remains. A dropped answer costs one signature check
    /// the next time its token comes, never a different answer. Returns how many were dropped.
    /// </summary>
    public int Trim(double keepFraction, long nowUnix = long.MaxValue)
    {
        var held = 0;
        foreach (var slot in _slots)
        {
            held += slot is null ? 0 : 1;
        }
        var target = (int)(Math.Clamp(keepFraction, 0, 1) * _slots.Length);
        var dropped = 0;
        for (var pass = 0; pass < 2 && held - dropped > target; pass++)
        {
            for (var i = 0; i < _slots.Length && held - dropped > target; i++)
            {
                if (Volatile.Read(ref _slots[i]) is { } entry && (pass == 1 || entry.Until <= nowUnix)
                    && Interlocked.CompareExchange(ref _slots[i], null, entry) == entry)
                {
                    dropped++;
                }
            }
        }
        return dropped;
    }

    private static bool Matches(Entry? candidate, ulong hash, ReadOnlySpan<byte> token, long nowUnix, out EdgeError? error)
    {
        error = candidate?.Error;
        return candidate is not null && candidate.Hash == hash && candidate.Until > nowUnix && candidate.Token.Length == token.Length
            && ConstantTime.Equals(candidate.Token, token);
    }

    private sealed class Entry(ulong hash, byte[] token, EdgeError error, long until)
    {
        public ulong Hash { get; } = hash;
        public byte[] Token { get; } = token;
        public EdgeError Error { get; } = error;
        public long Until { get; } = until;
    }
}
