using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Authio.EdgeProxy.Tests.Infrastructure;

/// <summary>A logger provider that records the event id of every entry at Information or above, for tests that count what was logged.</summary>
internal sealed class EventIdLog : ILoggerProvider
{
    private readonly ConcurrentQueue<int> _events = new();

    public int Count(int eventId) => _events.Count(e => e == eventId);

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(EventIdLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner._events.Enqueue(eventId.Id);
            }
        }
    }
}
