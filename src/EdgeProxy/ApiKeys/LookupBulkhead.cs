namespace Authio.EdgeProxy.ApiKeys;

/// <summary>
/// Bounds the control-plane key lookups of this edge: at most <c>maxConcurrent</c> in flight and <c>queue</c> waiting
/// for a slot; a lookup beyond both is refused at once (<see cref="LookupRejectedException"/>) without a call. So a flood
/// of random well-formed keys, from however many addresses, puts at most <c>maxConcurrent</c> lookups on the control
/// plane, and a genuinely new key waits behind at most <c>queue</c> others (each bounded by the lookup timeout).
/// Lookups of one digest are already single-flight (FusionCache's stampede protection), so they take one slot.
/// Each lookup, queue wait included, is cancelled after <c>timeout</c>: the request stops waiting then anyway
/// (FusionCache's hard timeout), and a hung control plane must not keep the slots.
/// </summary>
internal sealed class LookupBulkhead(int maxConcurrent, int queue, TimeSpan timeout, TimeProvider time)
{
    private readonly SemaphoreSlim _slots = new(maxConcurrent, maxConcurrent);
    private readonly int _admissionLimit = maxConcurrent + queue;
    private int _admitted;
    private int _running;
    private long _peakRunning;
    private long _rejected;

    /// <summary>Highest number of lookups seen in flight at once (a diagnostic and test hook).</summary>
    public long PeakRunning => Interlocked.Read(ref _peakRunning);

    /// <summary>Lookups in flight or waiting for a slot right now (a test hook).</summary>
    internal int Admitted => Volatile.Read(ref _admitted);

    /// <summary>Lookups refused because the bulkhead and its queue were full.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> lookup, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _admitted) > _admissionLimit)
        {
            Interlocked.Decrement(ref _admitted);
            Interlocked.Increment(ref _rejected);
            throw new LookupRejectedException();
        }
        try
        {
            var started = time.GetTimestamp();
            using var deadline = new CancellationTokenSource(timeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            await _slots.WaitAsync(linked.Token).ConfigureAwait(false);
            try
            {
                // A slot freed by another lookup's timeout can reach a waiter whose own deadline has passed but whose
                // timer has not fired yet; that waiter's request has already given up, so it must not call.
                if (time.GetElapsedTime(started) >= timeout)
                {
                    throw new OperationCanceledException(deadline.Token);
                }
                var running = Interlocked.Increment(ref _running);
                Concurrency.AtomicMax.Raise(ref _peakRunning, running);
                return await lookup(linked.Token).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
                _slots.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _admitted);
        }
    }
}

/// <summary>The lookup bulkhead and its queue were full: the key was not looked up.</summary>
internal sealed class LookupRejectedException() : Exception("Too many API key lookups in flight; the key was not looked up.");
