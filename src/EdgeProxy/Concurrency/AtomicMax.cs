namespace Authio.EdgeProxy.Concurrency;

internal static class AtomicMax
{
    /// <summary>Raises <paramref name="location"/> to <paramref name="value"/> if that is larger, lock-free; returns the maximum now held.</summary>
    public static long Raise(ref long location, long value)
    {
        var current = Volatile.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return value;
            }
            current = seen;
        }
        return current;
    }
}
