using System.IO.Hashing;
using System.Net;
using System.Security.Cryptography;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// Per client address budget of failed authentications (GCRA: one theoretical-arrival-time per slot, one CAS per failure).
/// A fixed table of 65 536 slots keyed by a hash of the address group (IPv4 address or IPv6 /64, see
/// <see cref="ClientAddressGroup"/>) keeps memory constant under a flood of distinct addresses; two groups sharing a
/// slot share a budget, which only ever errs toward limiting. The hash is seeded per process, so which addresses share
/// a slot cannot be computed from outside (no aiming collisions at a victim's address).
/// Only what a legitimate client never sends is charged (see <see cref="EdgeAuthenticator"/> and README "Failure budget").
/// </summary>
internal sealed class FailureBudget
{
    private const int Slots = 1 << 16;
    private readonly long[] _theoreticalArrival = new long[Slots];
    private readonly TimeProvider _time;
    private readonly long _interval;
    private readonly long _tolerance;
    private readonly int _ipv6Prefix;
    private readonly long _seed = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));
    private readonly StageMetrics? _metrics;

    public FailureBudget(FailureBudgetOptions options, TimeProvider time, EdgeMetrics? metrics = null)
    {
        _metrics = metrics?.Stages;
        _time = time;
        _interval = (long)(time.TimestampFrequency / options.PerSecond);
        _tolerance = _interval * options.Burst;
        _ipv6Prefix = options.Ipv6Prefix;
    }

    /// <summary>True when <paramref name="client"/> spent its budget: the caller refuses the credential unchecked (counted as such).</summary>
    public bool IsExhausted(IPAddress? client)
    {
        var now = _time.GetTimestamp();
        var tat = Math.Max(Volatile.Read(ref _theoreticalArrival[SlotOf(client)]), now);
        if (tat + _interval - now <= _tolerance)
        {
            return false;
        }
        _metrics?.FailureBudgetRefused();
        return true;
    }

    public void RecordFailure(IPAddress? client)
    {
        ref var slot = ref _theoreticalArrival[SlotOf(client)];
        var now = _time.GetTimestamp();
        while (true)
        {
            var current = Volatile.Read(ref slot);
            // Cap at the tolerance so an abusive client is released after one burst period of quiet.
            var next = Math.Min(Math.Max(current, now) + _interval, now + _tolerance + _interval);
            if (Interlocked.CompareExchange(ref slot, next, current) == current)
            {
                return;
            }
        }
    }

    internal int SlotOf(IPAddress? client)
    {
        if (client is null)
        {
            return 0;
        }
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, ClientAddressGroup.Key(client, _ipv6Prefix));
        return (int)(XxHash3.HashToUInt64(bytes, _seed) & (Slots - 1));
    }
}
