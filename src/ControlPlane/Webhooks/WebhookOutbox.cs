using System.Data.Common;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Storage;

namespace Authio.ControlPlane.Webhooks;

/// <summary>
/// Writes one outbox row per subscribed webhook inside the transaction that appends the audit event, so an event and
/// its deliveries commit (or roll back) together: nothing is lost if the process dies right after the commit. The
/// worker is woken once the transaction has committed.
/// </summary>
internal sealed class WebhookOutbox(Db db, WebhookSignal signal)
{
    public async Task EnqueueAsync(DbConnection c, DbTransaction tx, AuditRow row)
    {
        if (row.OrgId == AuditLog.SystemOrg || !WebhookEvents.Catalog.Contains(row.Event))
        {
            return;
        }

        var hooks = await WebhookStore.EnabledAsync(c, tx, row.OrgId);
        string? payload = null;
        foreach (var (id, events) in hooks)
        {
            if (!WebhookEvents.Matches(events, row.Event))
            {
                continue;
            }

            payload ??= WebhookEvents.Payload(row);
            await WebhookStore.InsertDeliveryAsync(c, tx, new WebhookDeliveryRow
            {
                OrgId = row.OrgId, Id = Ids.New("whd"), WebhookId = id, EventId = row.Id, Event = row.Event, Payload = payload,
                CreatedAt = row.Ts, NextAttemptAt = row.Ts,
            });
        }
        if (payload is not null)
        {
            db.AfterCommit(tx, signal.Wake);
        }
    }
}

/// <summary>Wakes the delivery worker (new outbox rows, a finished delivery); otherwise it polls.</summary>
internal sealed class WebhookSignal
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    public void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up covers every reason.
        }
    }

    /// <summary>Returns after a <see cref="Wake"/>, after <paramref name="interval"/> on <paramref name="time"/>, or when cancelled.</summary>
    public async Task WaitAsync(TimeSpan interval, TimeProvider time, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var woken = _wake.WaitAsync(cts.Token);
        var slept = Task.Delay(interval, time, cts.Token);
        await Task.WhenAny(woken, slept);
        await cts.CancelAsync();
    }
}
