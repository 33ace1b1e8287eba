using Authio.EdgeProxy.ApiKeys;

namespace Authio.EdgeProxy.Tests.ApiKeys;

public sealed class LookupBulkheadTests
{
    /// <summary>A clock the test moves whose timers never fire: a deadline timer that is "late".</summary>
    private sealed class LateTimerClock : TimeProvider
    {
        private long _ticks;

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NeverFires();

        private sealed class NeverFires : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;
            public void Dispose() { }
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task A_waiter_whose_deadline_passed_does_not_call_even_if_its_timer_has_not_fired()
    {
        var clock = new LateTimerClock();
        var bulkhead = new LookupBulkhead(maxConcurrent: 1, queue: 1, TimeSpan.FromSeconds(30), clock);
        var calls = 0;
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = bulkhead.RunAsync(_ => { Interlocked.Increment(ref calls); return release.Task; }, CancellationToken.None);
        var queued = bulkhead.RunAsync(_ => { Interlocked.Increment(ref calls); return Task.FromResult(2); }, CancellationToken.None);
        Assert.False(queued.IsCompleted);

        clock.Advance(TimeSpan.FromSeconds(31)); // both deadlines are past; neither timer has fired
        release.SetResult(1);                   // the slot goes to the queued lookup

        Assert.Equal(1, await first);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task A_waiter_within_its_deadline_gets_the_freed_slot_and_calls()
    {
        var clock = new LateTimerClock();
        var bulkhead = new LookupBulkhead(maxConcurrent: 1, queue: 1, TimeSpan.FromSeconds(30), clock);
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = bulkhead.RunAsync(_ => release.Task, CancellationToken.None);
        var queued = bulkhead.RunAsync(_ => Task.FromResult(2), CancellationToken.None);

        clock.Advance(TimeSpan.FromSeconds(29));
        release.SetResult(1);

        Assert.Equal(1, await first);
        Assert.Equal(2, await queued.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
