using System.Diagnostics;

namespace Authio.ControlPlane.Storage;

/// <summary>
/// One span per database transaction (<see cref="Db"/>), named after the store method that opened it. Created only
/// while tracing listens (<c>Tracing/TracingRegistration.cs</c>); statements and parameters are never recorded.
/// </summary>
internal static class StorageTracing
{
    public const string SourceName = "Authio.ControlPlane.Storage";

    private static readonly ActivitySource Source = new(SourceName);

    public static Activity? Start(Dialect dialect, string scope, string operation)
    {
        if (!Source.HasListeners())
        {
            return null;
        }
        var activity = Source.StartActivity(operation, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("db.system.name", dialect == Dialect.Postgres ? "postgresql" : "sqlite");
            activity.SetTag("db.operation.name", operation);
            activity.SetTag("authio.db.scope", scope);
        }
        return activity;
    }

    /// <summary>An exception filter: marks the span failed and lets the exception go on unchanged.</summary>
    public static bool Failed(Activity? activity, Exception error)
    {
        activity?.SetStatus(ActivityStatusCode.Error, error.GetType().Name);
        return false;
    }
}
