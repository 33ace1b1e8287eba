using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Storage;

internal sealed partial class Migrator
{
    [LoggerMessage(EventId = LogEvents.MigrationApplied, Level = LogLevel.Information, Message = "Applied schema migration {Version} ({Name})")]
    private partial void LogApplied(int version, string name);

    [LoggerMessage(EventId = LogEvents.StorageSelected, Level = LogLevel.Information, Message = "Store: {Dialect} (separate migration role: {SeparateAdmin})")]
    private partial void LogStorage(Dialect dialect, bool separateAdmin);

    [LoggerMessage(EventId = LogEvents.SchemaUpToDate, Level = LogLevel.Information, Message = "Schema is up to date at version {Version}")]
    private partial void LogUpToDate(int version);

    [LoggerMessage(EventId = LogEvents.RlsNotEffective, Level = LogLevel.Warning,
        Message = "The service's PostgreSQL role owns the tables or bypasses row-level security, so org isolation is not enforced by the database. Set ConnectionStrings:ControlPlaneAdmin to an owner role and ConnectionStrings:ControlPlane to a non-owner role.")]
    private partial void LogRlsNotEffective();
}
