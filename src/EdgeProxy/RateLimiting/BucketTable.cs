using System.IO.Hashing;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Authio.EdgeProxy.RateLimiting;

/// <summary>What a bucket key is, so that a subject and an org spelled alike never share a bucket.</summary>
internal enum BucketKeyKind : byte
{
    ApiKey,
    Subject,
    Org,
    Ip,
    /// <summary>A client address's failed authentications and authorizations on a limited route (never the caller's own quota).</summary>
    FailedIp,
}

/// <summary>
/// One GCRA bucket: the theoretical arrival time of the next request in one long (TimeProvider timestamp ticks),
/// advanced by one CAS per admitted request. A bucket whose arrival time has passed is full, so evicting it loses nothing.
/// </summary>
internal sealed class Bucket
{
    public Bucket(RateLimitPolicy limit, BucketKeyKind kind, string? text, UInt128 address, int hash, long now)
    {
        Limit = limit;
        Kind = kind;
        Text = text;
        Address = address;
        Hash = hash;
        // Failure buckets stay local: they guard this edge, not a fleet-wide quota.
        Lease = limit.Global && kind != BucketKeyKind.FailedIp ? new GlobalLease(now) : null;
    }

    public readonly RateLimitPolicy Limit;
    public readonly BucketKeyKind Kind;
    /// <summary>The key for every kind but the address kinds: the identity's own string, never a copy.</summary>
    public readonly string? Text;
    /// <summary>The client address for the address kinds (IPv4 in the low 4 bytes), allocation-free to compare.</summary>
    public readonly UInt128 Address;
    public readonly int Hash;
    public long TheoreticalArrival;
    /// <summary>Fleet-wide state for a <c>global</c> limit; null otherwise.</summary>
    public readonly GlobalLease? Lease;

    public string KeyText => IsAddress(Kind) ? FormatAddress(Address) : Text!;

    /// <summary>Whether buckets of this kind are keyed by the client address rather than a string.</summary>
    public static bool IsAddress(BucketKeyKind kind) => kind >= BucketKeyKind.Ip;

    private static string FormatAddress(UInt128 address)
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, address);
        return new IPAddress(address <= uint.MaxValue ? bytes[..4] : bytes).ToString();
    }
}

/// <summary>
/// A fixed-size, set-associative table of buckets (8 ways per set), keyed by a seeded hash of (limit, kind, key) with
/// full-key comparison. Memory is bounded by construction: a new key replaces the way whose bucket is closest to full
/// (smallest theoretical arrival), so a flood of one-off keys evicts its own kind before a client that is actually
/// being limited. Lookups and GCRA checks never allocate; only a key's first request allocates its bucket.
/// </summary>
internal sealed class BucketTable
{
    private const int Ways = 8;
    // Per-process seed: which keys share a set cannot be predicted from outside.
    private static readonly ulong Seed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
    private readonly Bucket?[] _slots;
    // Each slot's hash beside its neighbours: a lookup reads one 32-byte line and dereferences only a likely match.
    // A hint only (written after the slot): the bucket's own key is always compared.
    private readonly int[] _hashes;
    private readonly int _setMask;

    private readonly int _ipv6Prefix;

    /// <param name="capacity">Bucket slots (rounded up to a power of two).</param>
    /// <param name="ipv6Prefix">Per-address buckets group IPv6 clients by this prefix (<c>Edge:FailureBudget:Ipv6Prefix</c>).</param>
    public BucketTable(int capacity, int ipv6Prefix = 128)
    {
        _ipv6Prefix = ipv6Prefix;
        var sets = (int)Math.Max(1, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(Ways, capacity)) / Ways);
        _slots = new Bucket?[sets * Ways];
        _hashes = new int[sets * Ways];
        _setMask = sets - 1;
    }

    /// <summary>Number of bucket slots (fixed for the table's life).</summary>
    public int Capacity => _slots.Length;

    /// <summary>Buckets currently held (a diagnostic; walks the table).</summary>
    public int Count()
    {
        var count = 0;
        foreach (var slot in _slots)
        {
            if (slot is not null)
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>
    /// Drops every bucket whose theoretical arrival (and fleet lease) lies before <paramref name="now"/>: such a bucket
    /// is full, exactly what a new one would be, so no decision changes. The memory monitor calls it under pressure.
    /// </summary>
    public int TrimIdle(long now)
    {
        var dropped = 0;
        for (var i = 0; i < _slots.Length; i++)
        {
            if (Volatile.Read(ref _slots[i]) is not { } bucket)
            {
                continue;
            }
            var arrival = Math.Max(Volatile.Read(ref bucket.TheoreticalArrival), bucket.Lease is { } lease ? Volatile.Read(ref lease.KeepUntil) : 0);
            if (arrival < now && ReferenceEquals(Interlocked.CompareExchange(ref _slots[i], null, bucket), bucket))
            {
                dropped++;
            }
        }
        return dropped;
    }

    /// <summary>The full address as a key (IPv4 in the low 4 bytes, IPv4-mapped IPv6 as IPv4).</summary>
    public static UInt128 AddressKey(IPAddress? address) => Authio.EdgeProxy.Authentication.ClientAddressGroup.Key(address, 128);

    /// <summary>The key of the address's group: IPv4 address, or IPv6 cut to this table's prefix (default /64).</summary>
    public UInt128 AddressKeyOf(IPAddress? address) => Authio.EdgeProxy.Authentication.ClientAddressGroup.Key(address, _ipv6Prefix);

    // Measured 20–22 ns per lookup (hash 10–12 ns): RateLimitCostBenchmarks, bench/README.md.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Bucket Get(RateLimitPolicy limit, BucketKeyKind kind, string? text, UInt128 address, long now)
    {
        // XxHash3 over the key's UTF-16 is ~2x cheaper than string.GetHashCode (Marvin) for identity-sized keys.
        var key = Bucket.IsAddress(kind)
            ? (ulong)address ^ (ulong)(address >> 64) * 0x9E3779B97F4A7C15
            : XxHash3.HashToUInt64(MemoryMarshal.AsBytes(text.AsSpan()), (long)Seed);
        var hash = Mix(key, ((ulong)(uint)RuntimeHelpers.GetHashCode(limit) << 8) | (byte)kind);
        var start = (hash & _setMask) * Ways;
        for (var i = start; i < start + Ways; i++)
        {
            if (_hashes[i] != hash)
            {
                continue;
            }
            var bucket = Volatile.Read(ref _slots[i]);
            if (bucket is not null && bucket.Hash == hash && ReferenceEquals(bucket.Limit, limit) && bucket.Kind == kind
                && (Bucket.IsAddress(kind) ? bucket.Address == address : string.Equals(bucket.Text, text, StringComparison.Ordinal)))
            {
                return bucket;
            }
        }
        return Insert(start, new Bucket(limit, kind, text, address, hash, now));
    }

    /// <summary>A seeded 64→32-bit finalizer (splitmix64) of the key hash and the (limit, kind) namespace.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Mix(ulong key, ulong space)
    {
        var h = (key ^ Seed) + space * 0x9E3779B97F4A7C15;
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9;
        h = (h ^ (h >> 27)) * 0x94D049BB133111EB;
        return (int)(h ^ (h >> 31));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Bucket Insert(int start, Bucket created)
    {
        // Two racing first requests of one key may both insert; the duplicate ages out like any idle bucket.
        while (true)
        {
            var victim = start;
            var oldest = long.MaxValue;
            Bucket? current = null;
            for (var i = start; i < start + Ways; i++)
            {
                var bucket = Volatile.Read(ref _slots[i]);
                if (bucket is null)
                {
                    victim = i;
                    current = null;
                    break;
                }
                var arrival = Math.Max(Volatile.Read(ref bucket.TheoreticalArrival), bucket.Lease is { } lease ? Volatile.Read(ref lease.KeepUntil) : 0);
                if (arrival < oldest)
                {
                    oldest = arrival;
                    victim = i;
                    current = bucket;
                }
            }
            if (ReferenceEquals(Interlocked.CompareExchange(ref _slots[victim], created, current), current))
            {
                Volatile.Write(ref _hashes[victim], created.Hash);
                return created;
            }
        }
    }
}
