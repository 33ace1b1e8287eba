namespace Authio.EdgeProxy.Diagnostics;

/// <summary>The one registry of edge log event ids, so ids never collide across features.</summary>
internal static class EdgeLogEvents
{
    public const int JwksLoaded = 1001;
    public const int JwksRefused = 1002;
    public const int JwksFetchFailed = 1003;
    public const int JwksExpired = 1004;
    public const int JwksUnknownKidRefresh = 1005;

    public const int ApiKeyLookupFailed = 2101;
    public const int ApiKeyUsageReportFailed = 2102;

    public const int SyncSnapshot = 2201;
    public const int SyncApplied = 2202;
    public const int SyncFailed = 2203;
    public const int SyncJwksRefused = 2204; // retired: key refusals are per org now (3200)
    public const int SyncRedisFallback = 2205;
    public const int SyncOrgRateLimitRefused = 2206;
    public const int SyncOrgRateLimitApplied = 2207;

    public const int SyncFeedEntryRejected = 3220;
    public const int SyncFeedKeyUnusable = 3221;
    public const int SyncFeedWithoutKey = 3222;
    public const int SyncCatchUpFailed = 3224;
    public const int ApiKeyCacheUnsigned = 3223;
    public const int ApiKeyLookupsSaturated = 3310;
    public const int ApiKeyRecordChanged = 3311;
    public const int ApiKeyForgetFailed = 3312;

    public const int RateLimitRedisUnavailable = 2301; // retired: EdgeRedis logs Redis transitions (3410, 3411)
    public const int RateLimitRedisRecovered = 2302; // retired: see 3411

    public const int RedisUnavailable = 3410;
    public const int RedisRecovered = 3411;

    public const int RevocationExactSetUnavailable = 2401;

    public const int EdgeStarted = 3001;
    public const int DemoReady = 3101;

    public const int SyncKeySetRefused = 3200;
    public const int SyncKeySetRecovered = 3201;

    public const int WebSocketClosedExpired = 3350;
    public const int WebSocketClosedRevoked = 3351;
    public const int WebSocketRegistryFull = 3352;
    public const int WebSocketRecheckFailed = 3353;

    public const int FleetReporting = 3460;
    public const int FleetReportFailed = 3461;
    public const int FleetReportRefused = 3462;

    public const int ForwardAuthListening = 3470;
    public const int ForwardAuthExposed = 3471;
    public const int MemoryBudget = 3500;
    public const int MemoryPressureShed = 3501;
    public const int MemoryCompacted = 3502;
}
