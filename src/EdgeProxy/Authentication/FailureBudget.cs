using System.IO.Hashing;
using System.Net;
using Authio.EdgeProxy.Configuration;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// Per client IP budget of failed authentications (GCRA: one theoretical-arrival-time per slot, one CAS per failure).
/// A fixed table of 65 536 slots keyed by hashed IP keeps memory constant under a flood of distinct addresses;
/// two addresses sharing a slot share a budget, which only ever errs toward limiting.
/// </summary>
internal sealed class FailureBudget
{
    private const int Slots = 1 << 16;
    private readonly long[] _theoreticalArrival = new long[Slots];
    private readonly TimeProvider _time;
    private readonly long _interval;
    private readonly long _tolerance;

    public FailureBudget(FailureBudgetOptions options, TimeProvider time)
    {
        _time = time;
        _interval = (long)(time.TimestampFrequency / options.PerSecond);
        _tolerance = _interval * options.Burst;
    }

    public bool IsExhausted(IPAddress? client)
    {
        var now = _time.GetTimestamp();
        var tat = Math.Max(Volatile.Read(ref _theoreticalArrival[SlotOf(client)]), now);
        return tat + _interval - now > _tolerance;
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

    private static int SlotOf(IPAddress? client)
    {
        if (client is null)
        {
            return 0;
        }
        Span<byte> bytes = stackalloc byte[16];
        client.TryWriteBytes(bytes, out var written);
        return (int)(XxHash32.HashToUInt32(bytes[..written]) & (Slots - 1));
    }
}
