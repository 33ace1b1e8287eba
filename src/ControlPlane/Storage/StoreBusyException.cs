namespace Authio.ControlPlane.Storage;

/// <summary>
/// The database did not take the request's transaction in time (SQLite's writer queue is full for longer than
/// <see cref="Db.SqliteWriterWait"/>): answered 503 <c>store_unavailable</c>, which a client retries.
/// </summary>
internal sealed class StoreBusyException() : Exception("The database is busy; the transaction waited too long for it.");
