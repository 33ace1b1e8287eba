using Authio.EdgeProxy.Configuration;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Redis;

/// <summary>
/// The edge's one connection to <c>Edge:Redis</c>, shared by every Redis consumer (global rate limits, the exact
/// revocation set, the change feed, the API-key L2 cache), and the one place that knows whether Redis is up.
/// Consumers report failed calls (<see cref="ReportFailure"/>) and successful ones (<see cref="ReportSuccess"/>);
/// the first failure (or a lost connection) opens the breaker and is logged once; a restored connection, a successful
/// call or the probe that pings Redis twice a second while the breaker is open closes it again. Each consumer keeps its own fallback while <see cref="IsAvailable"/> is false.
/// </summary>
internal sealed partial class EdgeRedis : BackgroundService
{
    private static readonly TimeSpan RetryConnectAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(500);

    private readonly ConfigurationOptions _configuration;
    private readonly ILogger<EdgeRedis> _logger;
    private readonly TaskCompletionSource<IConnectionMultiplexer> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile IConnectionMultiplexer? _connection;
    private int _down;

    // No TimeProvider on purpose: reconnecting and probing pace real network I/O, like the multiplexer's own reconnects,
    // so an edge under a test's fake clock still finds Redis again.
    public EdgeRedis(EdgeOptions options, ILogger<EdgeRedis> logger)
    {
        _configuration = ConfigurationOptions.Parse(options.Redis!);
        // Keep retrying in the background: every consumer has a fallback while Redis is away.
        _configuration.AbortOnConnectFail = false;
        _configuration.ConnectTimeout = Math.Min(_configuration.ConnectTimeout, 2000);
        _logger = logger;
    }

    /// <summary>Upper bound of a probe; the consumers' own calls have their own timeouts.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The shared connection, or null before the first connect completed.</summary>
    public IConnectionMultiplexer? Connection => _connection;

    /// <summary>True while the connection is up and no consumer has seen a failure since the last successful call or probe.</summary>
    public bool IsAvailable => _connection is { IsConnected: true } && Volatile.Read(ref _down) == 0;

    /// <summary>True once Redis is known to be unreachable; false while the first connect is still under way.</summary>
    public bool IsDown => Volatile.Read(ref _down) == 1 || _connection is { IsConnected: false };

    /// <summary>The shared connection once it exists (it may still be disconnected: calls then fail fast).</summary>
    public Task<IConnectionMultiplexer> ConnectedAsync(CancellationToken cancellationToken = default) => _connected.Task.WaitAsync(cancellationToken);

    /// <summary>A call failed: opens the breaker (logged on the transition only).</summary>
    public void ReportFailure(Exception error)
    {
        if (Interlocked.Exchange(ref _down, 1) == 0)
        {
            LogUnavailable(_logger, error.GetType().Name, error.Message);
        }
    }

    /// <summary>A call succeeded: closes the breaker (logged on the transition only).</summary>
    public void ReportSuccess()
    {
        if (Interlocked.Exchange(ref _down, 0) == 1)
        {
            LogRecovered(_logger);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (_connection is null)
            {
                try
                {
                    var connection = await ConnectionMultiplexer.ConnectAsync(_configuration);
                    connection.ConnectionFailed += (_, args) => ReportFailure(args.Exception ?? new RedisException($"connection lost ({args.FailureType})"));
                    connection.ConnectionRestored += (_, _) => ReportSuccess();
                    if (!connection.IsConnected)
                    {
                        ReportFailure(new RedisException("no answer at start-up"));
                    }
                    _connection = connection;
                    _connected.TrySetResult(connection);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    ReportFailure(error);
                    await Task.Delay(RetryConnectAfter, stoppingToken);
                }
            }
            await ProbeAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>While the breaker is open (or the connection is down), pings Redis; the first answer closes it.</summary>
    private async Task ProbeAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(ProbeInterval, stop);
            if (IsAvailable || _connection is not { } connection)
            {
                continue;
            }
            try
            {
                await connection.GetDatabase().PingAsync().WaitAsync(CallTimeout, stop);
                ReportSuccess();
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                ReportFailure(error); // still down; logged once when the outage began
            }
        }
    }

    public override void Dispose()
    {
        _connection?.Dispose();
        _connected.TrySetCanceled();
        base.Dispose();
    }
}
