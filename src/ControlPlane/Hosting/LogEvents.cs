namespace Authio.ControlPlane.Hosting;

/// <summary>One registry of log event ids so they never collide.</summary>
internal static class LogEvents
{
    public const int MigrationApplied = 1001;
    public const int SchemaUpToDate = 1002;
    public const int RlsNotEffective = 1003;
    public const int StorageSelected = 1004;

    public const int BootstrapNeeded = 1101;
    public const int BootstrapDone = 1102;

    public const int MasterKeyGenerated = 1201;
    public const int SigningKeyCreated = 1202;
    public const int SigningKeyRevoked = 1203;
    public const int SigningKeyRateLimited = 1900;
    public const int SigningKeyBoundReached = 1901;
    public const int DataKeyRotated = 1902;
    public const int LegacyKeysRetiring = 1903;
    /// <summary>One org's scheduled key rotation failed; the other orgs' still ran.</summary>
    public const int SigningKeyRotationFailed = 1904;

    public const int LoginSucceeded = 1301;
    public const int LoginFailed = 1302;
    public const int AccountLocked = 1303;
    public const int RefreshReuse = 1304;

    public const int JobFailed = 1401;
    public const int AuditPruned = 1402;

    public const int UnhandledError = 1501;
    /// <summary>A request was answered 503: the database was busy or unreachable.</summary>
    public const int StoreUnavailable = 1502;

    public const int ApiKeyCreated = 1601;
    public const int ApiKeyRotated = 1602;
    public const int ApiKeyRevoked = 1603;
    public const int ApiKeyUsedAfterRevoke = 1604;
    public const int ApiKeyExpired = 1605;
    public const int EdgeKeyRejected = 1606;
    public const int ApiKeyScopeCreated = 1607;

    public const int EdgeSnapshotServed = 1701;
    public const int EdgeFeedReset = 1702;
    public const int EdgeChangesPruned = 1703;
    public const int TokenRevoked = 1704;
    public const int RedisPublishFailed = 1705;
    public const int RedisRevocationsSeeded = 1706;
    public const int RedisForeignStream = 1707;

    public const int RateLimited = 1801;
    public const int RateLimitActiveEvictions = 1802;
    public const int RateLimitFleetUnavailable = 1803;
    public const int RateLimitFleetRestored = 1804;

    /// <summary>An audit stream's batch could not be delivered; it is retried.</summary>
    public const int AuditStreamFailed = 2210;

    /// <summary>A right password refused for its risk score (<c>Risk:StepUpAbove</c>): the user has no second factor.</summary>
    public const int SignInStepUpRefused = 2230;
    /// <summary>A burst of failures from one address: password spraying or credential stuffing (once per address and window).</summary>
    public const int SignInBurstDetected = 2231;
    /// <summary>A sign-in flagged as suspicious (reasons and score; never the address or the user agent).</summary>
    public const int SuspiciousSignIn = 2232;

    public const int AuthorityPollFailed = 1920;
    public const int AuthorityPollRecovered = 1921;
    /// <summary>One org's part of a maintenance round failed; the other orgs and steps still ran.</summary>
    public const int MaintenanceOrgFailed = 1960;
    /// <summary>One maintenance step failed; the later steps of the round still ran.</summary>
    public const int MaintenanceStepFailed = 1961;
    public const int UnknownEmailLocked = 1980;
    public const int AuditChainUpgraded = 1981;
    public const int AuditChainNotUpgraded = 1982;
    public const int AuditCheckpointFailed = 1983;
    public const int AuditCutRefused = 1984;
    public const int LoginFailuresPruned = 1985;

    /// <summary>The gauge sampler could not read the database; the last sample stays.</summary>
    public const int MetricsSampleFailed = 2010;
    public const int AdminListenerStarted = 2011;

    public const int FleetEdgeJoined = 2030;
    /// <summary>The fleet gauge sampler could not read the database; the last sample stays.</summary>
    public const int FleetSampleFailed = 2031;

    public const int MfaSucceeded = 2120;
    public const int MfaFailed = 2121;
    public const int MfaTotpEnrolled = 2122;
    public const int MfaTotpRemoved = 2123;
    /// <summary>A recovery code was spent (warning: a lost authenticator, or a stolen code).</summary>
    public const int MfaRecoveryCodeUsed = 2124;
    public const int MfaStepUp = 2125;
    public const int StepUpRequired = 2126;
    public const int MfaLocked = 2127;
    public const int PasskeyRegistered = 2160;
    public const int PasskeyRemoved = 2161;
    /// <summary>A passkey assertion was refused (reason only; never key material).</summary>
    public const int PasskeyAssertionRefused = 2162;
    /// <summary>A passkey's signature counter went backwards or stood still: a possible clone.</summary>
    public const int PasskeyCounterRegression = 2163;
    /// <summary>A WebAuthn payload could not be read or verified (debug: the library's reason).</summary>
    public const int PasskeyPayloadRejected = 2164;
    /// <summary>A webhook delivery attempt failed (endpoint and reason; never the payload or a secret).</summary>
    public const int WebhookDeliveryFailed = 2180;
    /// <summary>A delivery gave up after <c>Webhooks:RetryFor</c> and was dead-lettered.</summary>
    public const int WebhookDeliveryDead = 2181;
    /// <summary>An endpoint's circuit opened after consecutive failures; its deliveries wait.</summary>
    public const int WebhookCircuitOpened = 2182;
    /// <summary>A round of the delivery worker failed (database); the next round retries.</summary>
    public const int WebhookRoundFailed = 2183;
    /// <summary>A webhook was created, changed, rotated or deleted.</summary>
    public const int WebhookChanged = 2184;
    /// <summary>A data-subject export was built (org, export id, size; never its content).</summary>
    public const int DataSubjectExported = 2250;
    /// <summary>A person's data was erased from an org (a keyed pseudonym, never the person's id or email).</summary>
    public const int DataSubjectErased = 2251;
}
