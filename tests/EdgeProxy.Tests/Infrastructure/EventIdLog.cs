using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Authio.EdgeProxy.Tests.Infrastructure;

/// <summary>
/// A logger provider that records the event id and message of every entry at <paramref name="minimum"/> or above
/// (default Information), for tests that count or read what was logged.
/// </summary>
internal sealed class EventIdLog(LogLevel minimum = LogLevel.Information) : ILoggerProvider
{
    private readonly ConcurrentQueue<(int EventId, string Message)> _entries = new();
    private readonly LogLevel _minimum = minimum;

    /// <summary>A copy of what was logged so far, in order.</summary>
    public IEnumerable<(int EventId, string Message)> Entries => _entries.ToArray();

    public int Count(int eventId) => _entries.Count(e => e.EventId == eventId);

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(EventIdLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner._minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner._entries.Enqueue((eventId.Id, formatter(state, exception)));
            }
        }
    }
}
