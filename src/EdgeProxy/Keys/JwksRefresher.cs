using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.Keys;

/// <summary>
/// Keeps every issuer's JWKS current: loaded at start, refreshed periodically, and on an unknown kid (throttled per
/// issuer, concurrent misses coalesced onto one fetch). A failing endpoint never replaces a good key set; the
/// last good set is trusted up to <see cref="IssuerOptions.MaxKeySetAge"/>.
/// </summary>
internal sealed partial class JwksRefresher : BackgroundService
{
    /// <summary>Start-up waits this long for first key sets so the first requests do not fail needlessly.</summary>
    private static readonly TimeSpan InitialLoadWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(15);

    private readonly IssuerRegistry _registry;
    private readonly JwksFetcher _fetcher;
    private readonly TimeProvider _time;
    private readonly ILogger<JwksRefresher> _logger;
    private readonly Dictionary<TrustedIssuer, IssuerState> _states;
    private readonly IUnknownKidCatchUp[] _catchUps;
    private readonly StageMetrics? _metrics;

    public JwksRefresher(IssuerRegistry registry, JwksFetcher fetcher, TimeProvider time, ILogger<JwksRefresher> logger,
        IEnumerable<IUnknownKidCatchUp>? catchUps = null, EdgeMetrics? metrics = null)
    {
        _metrics = metrics?.Stages;
        _catchUps = catchUps?.ToArray() ?? [];
        _registry = registry;
        _fetcher = fetcher;
        _time = time;
        _logger = logger;
        _states = registry.Issuers.Where(i => i.UsesJwks).ToDictionary(i => i, _ => new IssuerState());
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var initial = Task.WhenAll(_states.Keys.Select(issuer => RefreshAsync(issuer, CancellationToken.None)));
        await Task.WhenAny(initial, Task.Delay(InitialLoadWait, _time, cancellationToken));
        await base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_states.Keys.Select(issuer => RunAsync(issuer, stoppingToken)));

    private async Task RunAsync(TrustedIssuer issuer, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var healthy = issuer.Keys is { } keys && _time.GetUtcNow() - keys.LoadedAt < issuer.Options.RefreshInterval;
            var delay = healthy ? issuer.Options.RefreshInterval : Min(RetryAfterFailure, issuer.Options.RefreshInterval);
            try
            {
                await Task.Delay(delay, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await RefreshAsync(issuer, stoppingToken);
        }
    }

    /// <summary>
    /// Called when a token names a kid no issuer publishes. Returns true if some issuer's key set was re-fetched or the
    /// control plane's feed read (so the caller should retry once); false when all were read too recently.
    /// </summary>
    public async Task<bool> RefreshForUnknownKidAsync(CancellationToken cancellationToken)
    {
        var caughtUp = false;
        foreach (var catchUp in _catchUps)
        {
            caughtUp |= await catchUp.CatchUpForUnknownKidAsync(cancellationToken);
        }
        var fetches = new List<Task>();
        var now = _time.GetUtcNow();
        foreach (var (issuer, state) in _states)
        {
            lock (state)
            {
                if (state.InFlight is { IsCompleted: false } running)
                {
                    fetches.Add(running);
                }
                else if (now - state.LastUnknownKidFetch >= issuer.Options.UnknownKidRefreshThrottle)
                {
                    state.LastUnknownKidFetch = now;
                    LogUnknownKidRefresh(_logger, issuer.Name);
                    fetches.Add(RefreshAsync(issuer, CancellationToken.None));
                }
            }
        }
        if (fetches.Count == 0)
        {
            return caughtUp;
        }
        await Task.WhenAll(fetches).WaitAsync(cancellationToken);
        return true;
    }

    private Task RefreshAsync(TrustedIssuer issuer, CancellationToken cancellationToken)
    {
        var state = _states[issuer];
        lock (state)
        {
            if (state.InFlight is { IsCompleted: false } running)
            {
                return running;
            }
            return state.InFlight = FetchAndPublishAsync(issuer, cancellationToken);
        }
    }

    private async Task FetchAndPublishAsync(TrustedIssuer issuer, CancellationToken cancellationToken)
    {
        var (document, fetchError) = await _fetcher.FetchAsync(issuer.Options.JwksUri!, cancellationToken);
        if (document is null)
        {
            LogFetchFailed(_logger, issuer.Name, fetchError!);
            issuer.RefreshFailed(fetchError!, _time.GetUtcNow());
            _metrics?.KeyRefresh(issuer.Name, KeyRefreshResult.Failed);
            ExpireIfTooOld(issuer);
            return;
        }
        if (!JwksParser.TryParse(document, issuer, out var keys, out var refusal))
        {
            LogRefused(_logger, issuer.Name, refusal);
            issuer.RefreshFailed("refused: " + refusal, _time.GetUtcNow());
            _metrics?.KeyRefresh(issuer.Name, KeyRefreshResult.Refused);
            ExpireIfTooOld(issuer);
            return;
        }
        _registry.Publish(issuer, new KeySet(keys, _time.GetUtcNow()));
        issuer.RefreshSucceeded();
        _metrics?.KeyRefresh(issuer.Name, KeyRefreshResult.Ok);
        LogLoaded(_logger, issuer.Name, keys.Length, string.Join(",", keys.Select(k => k.Kid ?? "(none)")));
    }

    private void ExpireIfTooOld(TrustedIssuer issuer)
    {
        if (issuer.Keys is { } keys && _time.GetUtcNow() - keys.LoadedAt > issuer.Options.MaxKeySetAge)
        {
            _registry.Publish(issuer, null);
            LogExpired(_logger, issuer.Name, issuer.Options.MaxKeySetAge);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private sealed class IssuerState
    {
        public Task? InFlight;
        public DateTimeOffset LastUnknownKidFetch = DateTimeOffset.MinValue;
    }
}
