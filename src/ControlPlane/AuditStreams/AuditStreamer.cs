using System.Text;
using System.Text.Json;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Orgs;

namespace Authio.ControlPlane.AuditStreams;

/// <summary>
/// Delivers every org's audit events to each configured stream (<c>ControlPlane:AuditStreams</c>), per org in chain
/// order, at least once: a batch is written (or POSTed and answered 2xx) before the stream's cursor moves, so a crash in
/// between repeats the batch and loses nothing; after a restart delivery resumes from the stored cursor. A failing
/// stream is retried next round and holds back no other stream. Rounds run every second of the injected clock.
/// </summary>
internal sealed partial class AuditStreamer(ControlPlaneOptions options, AuditStreamStore store, OrgStore orgs, TimeProvider time,
    IHttpClientFactory httpClients, ILogger<AuditStreamer> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a stream's lease lasts without renewal (renewed every round): with several instances configured alike, one
    /// delivers each stream, and another takes over this long after it stops answering (at once after a graceful stop).
    /// </summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(15);

    private readonly string _holder = Environment.MachineName + "/" + Guid.NewGuid().ToString("N");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            foreach (var (name, stream) in options.AuditStreams)
            {
                try
                {
                    var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                    if (await store.TryLeaseAsync(name, _holder, now, now + (long)LeaseDuration.TotalMilliseconds, stoppingToken))
                    {
                        await DeliverAsync(name, stream, stoppingToken);
                    }
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    LogFailed(logger, name, error.GetType().Name, error.Message);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var name in options.AuditStreams.Keys)
        {
            try
            {
                await store.ReleaseLeaseAsync(name, _holder, cancellationToken);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // Not released: another instance takes the stream over when the lease lapses.
                LogFailed(logger, name, error.GetType().Name, error.Message);
            }
        }
    }

    /// <summary>One round for one stream: every org with new events, a batch each.</summary>
    public async Task DeliverAsync(string name, AuditStreamOptions stream, CancellationToken ct)
    {
        var cursors = await store.CursorsAsync(name, ct);
        foreach (var org in (await orgs.AllIdsAsync(ct)).Append(AuditLog.SystemOrg))
        {
            var after = cursors.GetValueOrDefault(org);
            while (true)
            {
                var rows = await store.EventsAfterAsync(org, after, stream.BatchSize, ct);
                if (rows.Count == 0)
                {
                    break;
                }

                var batch = new StringBuilder();
                foreach (var row in rows)
                {
                    batch.Append(JsonSerializer.Serialize(AuditStreamLine.From(row))).Append('\n');
                }
                await WriteAsync(name, stream, batch.ToString(), ct);
                after = rows[^1].Seq;
                // Not cancellable: a batch that was delivered is recorded even while the instance stops, or the next one repeats it.
                await store.SetCursorAsync(name, org, after, CancellationToken.None);
                if (rows.Count < stream.BatchSize)
                {
                    break;
                }
            }
        }
    }

    private async Task WriteAsync(string name, AuditStreamOptions stream, string ndjson, CancellationToken ct)
    {
        if (stream.Url is { } url)
        {
            using var content = new StringContent(ndjson, Encoding.UTF8, "application/x-ndjson");
            using var response = await httpClients.CreateClient("audit-streams").PostAsync(url, content, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"the receiver answered {(int)response.StatusCode}");
            }
            return;
        }

        Directory.CreateDirectory(stream.Directory!);
        var day = time.GetUtcNow().ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
        var bytes = Encoding.UTF8.GetBytes(ndjson);
        var path = CurrentFile(stream.Directory!, name, day, stream.MaxFileBytes - bytes.Length);
        await using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        await file.WriteAsync(bytes, ct);
        // Durable before the cursor moves: the batch survives a crash of this process or of the machine.
        file.Flush(flushToDisk: true);
    }

    /// <summary>Today's newest file of the stream, or the next one when it cannot take <paramref name="room"/> more bytes.</summary>
    private static string CurrentFile(string directory, string name, string day, long room)
    {
        for (var part = 1; ; part++)
        {
            var path = Path.Combine(directory, $"{name}-{day}-{part:D3}.ndjson");
            var next = Path.Combine(directory, $"{name}-{day}-{part + 1:D3}.ndjson");
            if (File.Exists(next))
            {
                continue;
            }
            if (!File.Exists(path) || new FileInfo(path).Length <= room)
            {
                return path;
            }
        }
    }
}
