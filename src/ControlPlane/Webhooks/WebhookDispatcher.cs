using System.Collections.Concurrent;
using System.Text;
using Authio.ControlPlane.Diagnostics;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.SigningKeys;
using Authio.Shared.Webhooks;

namespace Authio.ControlPlane.Webhooks;

/// <summary>
/// The at-least-once delivery worker. Each round leases due outbox rows (<see cref="WebhookStore.ClaimAsync"/>: two
/// instances never hold the same row) and sends each on its own task, so a slow receiver holds only its own
/// deliveries: at most <c>MaxConcurrencyPerEndpoint</c> per endpoint and <c>MaxConcurrency</c> in all per instance.
/// A failed attempt is retried with exponential backoff and jitter until <c>RetryFor</c> after the event, then the row
/// is dead-lettered. <c>BreakerThreshold</c> consecutive failures open an endpoint's circuit: its rows are not leased
/// for <c>BreakerCooldown</c>, then one attempt probes it. Rows whose lease runs out (an instance died mid-delivery)
/// are due again, which is why a receiver must drop duplicates by <c>Authio-Event-Id</c>.
/// </summary>
internal sealed partial class WebhookDispatcher(
    WebhookStore store, WebhookSender sender, WebhookSignal signal, KeySealer sealer, ControlPlaneOptions options, TimeProvider time,
    ControlPlaneMetrics metrics, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private readonly WebhookOptions _o = options.Webhooks;
    private readonly ConcurrentDictionary<string, WebhookEndpointState> _endpoints = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);
    private int _running;

    /// <summary>Leases outlive an attempt (its timeout, then one write) by a wide margin: only a dead instance lets one run out.</summary>
    private TimeSpan Lease => 2 * _o.Timeout + TimeSpan.FromSeconds(5);

    /// <summary>Deliveries this instance is sending now.</summary>
    public int InFlight => Volatile.Read(ref _running);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RoundAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogRoundFailed(e);
            }
            await signal.WaitAsync(_o.PollInterval, time, stoppingToken);
        }

        // Deliveries in flight were cancelled with the stopping token; let them record what they know before the host goes.
        for (var i = 0; i < 50 && InFlight > 0; i++)
        {
            await _idle.WaitAsync(TimeSpan.FromMilliseconds(100), CancellationToken.None);
        }
    }

    private readonly SemaphoreSlim _idle = new(0);

    /// <summary>Leases and starts every due delivery this instance has room for.</summary>
    internal async Task RoundAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var room = _o.MaxConcurrency - Volatile.Read(ref _running);
            if (room <= 0)
            {
                return;
            }

            var now = time.GetUtcNow();
            await PruneIfDueAsync(now, stop);
            if (!await store.AnyDueAsync(now.ToUnixTimeMilliseconds(), stop))
            {
                return;
            }

            var skip = _endpoints.Where(e => !e.Value.Admits(now, _o.MaxConcurrencyPerEndpoint)).Select(e => e.Key).ToArray();
            var claimed = await store.ClaimAsync(now.ToUnixTimeMilliseconds(), (now + Lease).ToUnixTimeMilliseconds(), room,
                _o.MaxConcurrencyPerEndpoint, skip, stop);
            foreach (var d in claimed)
            {
                if (_inFlight.ContainsKey(d.Id))
                {
                    continue; // Still being sent here (its lease ran out under a fast clock): never twice at once.
                }

                var endpoint = _endpoints.GetOrAdd(d.WebhookId, _ => new WebhookEndpointState());
                if (!endpoint.TryEnter(now, _o.MaxConcurrencyPerEndpoint))
                {
                    await store.ReleaseAsync(d.OrgId, d.Id, stop);
                    continue;
                }

                _inFlight[d.Id] = 0;
                Interlocked.Increment(ref _running);
                _ = Task.Run(() => DeliverAsync(d, endpoint, stop), CancellationToken.None);
            }
            if (claimed.Count < room)
            {
                return;
            }
        }
    }

    private DateTimeOffset _nextPrune;

    /// <summary>At most hourly: the delivery log keeps delivered and dead rows for <c>LogRetention</c>.</summary>
    private async Task PruneIfDueAsync(DateTimeOffset now, CancellationToken ct)
    {
        if (now < _nextPrune)
        {
            return;
        }

        _nextPrune = now + TimeSpan.FromHours(1);
        await store.PruneAsync((now - _o.LogRetention).ToUnixTimeMilliseconds(), ct);
    }

    private async Task DeliverAsync(ClaimedDelivery d, WebhookEndpointState endpoint, CancellationToken stop)
    {
        var succeeded = false;
        try
        {
            var body = Encoding.UTF8.GetBytes(d.Payload);
            string? signature;
            try
            {
                signature = Sign(d, body, time.GetUtcNow());
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or FormatException)
            {
                // A secret sealed under another master key: nothing is sent, and the row fails (then dead-letters) like any other.
                signature = null;
            }
            var attempt = signature is null
                ? new WebhookAttempt(false, null, 0, "secret unreadable (master key changed?)")
                : await sender.SendAsync(d.Url, body, d.EventId, signature, stop);
            var now = time.GetUtcNow();
            if (attempt.Delivered)
            {
                succeeded = true;
                metrics.WebhookAttempt(WebhookOutcomes.Delivered);
                await store.RecordDeliveredAsync(d.OrgId, d.Id, now.ToUnixTimeMilliseconds(), attempt.Status!.Value, attempt.DurationMs, CancellationToken.None);
                return;
            }

            var attempts = d.Attempts + 1;
            var next = now + Backoff(attempts);
            var dead = next > DateTimeOffset.FromUnixTimeMilliseconds(d.CreatedAt) + _o.RetryFor;
            await store.RecordFailedAsync(d.OrgId, d.Id, now.ToUnixTimeMilliseconds(), attempt.Status, attempt.DurationMs, attempt.Error!,
                next.ToUnixTimeMilliseconds(), dead, CancellationToken.None);
            metrics.WebhookAttempt(dead ? WebhookOutcomes.Dead : WebhookOutcomes.Failed);
            if (dead)
            {
                LogDead(d.WebhookId, d.Id, attempts);
            }
            else
            {
                LogFailed(d.WebhookId, d.Id, attempts, attempt.Error!);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Shutting down: the lease runs out and the next instance (or start) sends it again.
        }
        catch (Exception e)
        {
            LogRoundFailed(e);
        }
        finally
        {
            if (endpoint.Exit(succeeded, time.GetUtcNow(), _o.BreakerThreshold, _o.BreakerCooldown))
            {
                LogCircuitOpened(d.WebhookId, _o.BreakerThreshold, (long)_o.BreakerCooldown.TotalSeconds);
            }

            _inFlight.TryRemove(d.Id, out _);
            if (Interlocked.Decrement(ref _running) == 0)
            {
                _idle.Release();
            }

            signal.Wake();
        }
    }

    private string Sign(ClaimedDelivery d, byte[] body, DateTimeOffset now)
    {
        var current = Unseal(d.OrgId, d.WebhookId, d.SealedSecret);
        var t = now.ToUnixTimeSeconds();
        // During a rotation's overlap the old secret signs too, so receivers can switch over at their own pace.
        return d.SealedPreviousSecret is { } previous && d.PreviousValidUntil > now.ToUnixTimeMilliseconds()
            ? WebhookSignature.Sign(t, body, current, Unseal(d.OrgId, d.WebhookId, previous))
            : WebhookSignature.Sign(t, body, current);
    }

    private string Unseal(string orgId, string webhookId, string sealedSecret) =>
        Encoding.UTF8.GetString(sealer.Unseal(WebhookSecrets.Context(orgId, webhookId), sealedSecret));

    /// <summary>Exponential (InitialBackoff × 2^(n−1), capped at MaxBackoff) with equal jitter: half fixed, half random.</summary>
    internal TimeSpan Backoff(long attempts)
    {
        var exponent = Math.Min(attempts - 1, 30);
        var full = Math.Min(_o.InitialBackoff.TotalMilliseconds * Math.Pow(2, exponent), _o.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(full / 2 + Random.Shared.NextDouble() * full / 2);
    }
}
