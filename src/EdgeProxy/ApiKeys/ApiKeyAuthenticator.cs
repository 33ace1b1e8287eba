using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Revocation;
using Authio.Shared.ApiKeys;
using Authio.Shared.Tokens;
using ZiggyCreatures.Caching.Fusion;

namespace Authio.EdgeProxy.ApiKeys;

/// <summary>
/// Validates <c>sk_live_</c>/<c>sk_test_</c> keys: format and checksum (no lookup), environment, SHA-256 into a
/// stack buffer, then the hot cache by digest (0 B). Misses go through FusionCache (L1 memory, optional Redis L2,
/// control-plane lookup as factory, negative caching, fail-safe), off the steady-state path.
/// </summary>
internal sealed partial class ApiKeyAuthenticator
{
    private readonly ApiKeyHotCache _hot;
    private readonly IFusionCache _cache;
    private readonly ControlPlaneClient? _controlPlane;
    private readonly ApiKeyUsageCounters _usage;
    /// <summary>
    /// This path's own per-address failure budget (same limits as the token path's): random keys exhaust it and get
    /// 429 before a lookup, while tokens from the same address, checked by signature, keep their own budget.
    /// </summary>
    private readonly FailureBudget _budget;
    private readonly IRevocationCheck _revocation;
    private readonly TimeProvider _time;
    private readonly ILogger<ApiKeyAuthenticator> _logger;
    private readonly ApiKeyEnvironment _environment;
    private readonly long _freshTicks;
    private readonly long _negativeTicks;
    private readonly FusionCacheEntryOptions _entryOptions;
    private readonly TimeSpan _negativeDuration;
    private readonly long _staleServeTicks;
    private readonly Func<bool>? _revocationsPushed;
    private readonly LookupBulkhead _bulkhead;
    /// <summary>With a live feed, how much longer than <see cref="_freshTicks"/> a record is served before a background refresh.</summary>
    private readonly long _pushedExtraTicks;
    /// <summary>When the feed last started over from a snapshot: records fetched before it get no pushed extension.</summary>
    private long _resynchronizedAt = long.MinValue;
    private long _saturationLoggedAt = long.MinValue;

    public ApiKeyAuthenticator(EdgeOptions options, ApiKeyHotCache hot, IFusionCache cache, ControlPlaneClient? controlPlane,
        ApiKeyUsageCounters usage, IRevocationCheck revocation, TimeProvider time, ILogger<ApiKeyAuthenticator> logger,
        Func<bool>? revocationsPushed = null, EdgeMetrics? metrics = null, ApiKeyRecordChanges? changes = null)
    {
        _revocationsPushed = revocationsPushed;
        _bulkhead = new LookupBulkhead(options.ApiKeys.MaxConcurrentLookups, options.ApiKeys.LookupQueue, options.ApiKeys.LookupTimeout, time);
        _staleServeTicks = (long)(options.ApiKeys.FailSafeMaxDuration.TotalSeconds * time.TimestampFrequency);
        _hot = hot;
        _cache = cache;
        _controlPlane = controlPlane;
        _usage = usage;
        _budget = new FailureBudget(options.FailureBudget, time, metrics);
        _revocation = revocation;
        _time = time;
        _logger = logger;
        _environment = options.Environment == "test" ? ApiKeyEnvironment.Test : ApiKeyEnvironment.Live;
        // The answer may be stale for the hot half plus the FusionCache half: together at most CacheDuration.
        var half = options.ApiKeys.CacheDuration / 2;
        _freshTicks = (long)(half.TotalSeconds * time.TimestampFrequency);
        var pushedInterval = options.ApiKeys.PushedRefreshInterval > options.ApiKeys.CacheDuration ? options.ApiKeys.PushedRefreshInterval : options.ApiKeys.CacheDuration;
        _pushedExtraTicks = (long)((pushedInterval - half).TotalSeconds * time.TimestampFrequency);
        changes?.Subscribe(Forget, () => Volatile.Write(ref _resynchronizedAt, _time.GetTimestamp()));
        _negativeDuration = options.ApiKeys.NegativeCacheDuration;
        _negativeTicks = (long)(_negativeDuration.TotalSeconds * time.TimestampFrequency);
        _entryOptions = new FusionCacheEntryOptions
        {
            Duration = half,
            Size = 1,
            IsFailSafeEnabled = true,
            FailSafeMaxDuration = options.ApiKeys.FailSafeMaxDuration,
            FailSafeThrottleDuration = half,
            FactoryHardTimeout = options.ApiKeys.LookupTimeout,
        };
    }

    public static readonly EdgeError Invalid = EdgeError.Unauthorized("The API key is not valid.");
    public static readonly EdgeError Revoked = EdgeError.Unauthorized("The API key has been revoked.");
    public static readonly EdgeError Expired = EdgeError.Unauthorized("The API key has expired.");
    public static readonly EdgeError CannotVerify = EdgeError.Unverifiable("The API key could not be verified right now; retry shortly.");
    public static readonly EdgeError TestKeyOnLiveEdge = EdgeError.Unauthorized("This edge accepts live keys (sk_live_) only; the request used a test key.");
    public static readonly EdgeError LiveKeyOnTestEdge = EdgeError.Unauthorized("This edge accepts test keys (sk_test_) only; the request used a live key.");

    /// <summary>
    /// <see cref="AuthenticateCached"/> in the <c>Try…</c> form: false when the key must be looked up
    /// (<see cref="AuthenticateAsync"/>); true otherwise, with the identity or the refusal (the identity and no error when
    /// its revocation awaits confirmation).
    /// </summary>
    public bool TryAuthenticateCached(ReadOnlySpan<char> key, IPAddress? client, out EdgeIdentity? identity, out EdgeError? error)
    {
        var outcome = AuthenticateCached(key, client);
        outcome.TryGet(out identity, out error);
        return outcome.Kind != AuthenticationKind.NeedsApiKeyLookup;
    }

    /// <summary><see cref="LookUpAsync"/> as the identity or the refusal (the identity and no error when its revocation awaits confirmation).</summary>
    public async Task<(EdgeIdentity? Identity, EdgeError? Error)> AuthenticateAsync(string key, IPAddress? client, CancellationToken cancellationToken)
    {
        var outcome = await LookUpAsync(key, client, cancellationToken);
        return (outcome.Identity, outcome.Error);
    }

    /// <summary>
    /// The synchronous part: accepted, rejected, <see cref="AuthenticationKind.NeedsRevocationConfirmation"/>, or
    /// <see cref="AuthenticationKind.NeedsApiKeyLookup"/> when the key must be looked up through <see cref="LookUpAsync"/>.
    /// </summary>
    /// <remarks>
    /// The checksum is checked only when the hot cache does not hold the key: it holds digests of well-formed keys only
    /// (a key reaches it through a lookup, after this check), so a hit already proves what the checksum would.
    /// </remarks>
    [SkipLocalsInit]
    public AuthenticationOutcome AuthenticateCached(ReadOnlySpan<char> key, IPAddress? client)
    {
        if (!ApiKeyFormat.TryReadEnvironment(key, out var environment))
        {
            return Charge(client, Invalid);
        }
        if (environment != _environment)
        {
            // A misconfigured client, not a guess: refused cheaply, never charged (a malformed one is a guess).
            return ApiKeyFormat.IsWellFormed(key, out _)
                ? AuthenticationOutcome.Rejected(_environment == ApiKeyEnvironment.Live ? TestKeyOnLiveEdge : LiveKeyOnTestEdge)
                : Charge(client, Invalid);
        }
        Span<byte> ascii = stackalloc byte[ApiKeyFormat.MaxLength];
        if (Ascii.FromUtf16(key, ascii, out var length) != OperationStatus.Done)
        {
            return Charge(client, Invalid);
        }
        Span<byte> digest = stackalloc byte[ApiKeyFormat.DigestLength];
        ApiKeyDigest.Compute(ascii[..length], digest); // faster than the platform SHA-256 for a key-sized input: ApiKeyBenchmarks, bench/README.md
        ascii.Clear(); // it held the secret
        var now = _time.GetTimestamp();
        if (!_hot.TryGetAny(digest, out var entry))
        {
            return ApiKeyFormat.IsWellFormed(key, out _) ? AuthenticationOutcome.NeedsApiKeyLookup : Charge(client, Invalid);
        }
        if (now >= entry.FreshUntil && !ServeWhileRefreshing(entry, digest, now))
        {
            return AuthenticationOutcome.NeedsApiKeyLookup;
        }
        return Decide(entry, client);
    }

    /// <summary>
    /// Stale-while-revalidate for a known, usable key: while the edge-sync feed is live, revocations and rotations reach
    /// the edge by push (revocations checked in <see cref="Decide"/> on every request, rotations drop the key's entries:
    /// <see cref="Forget"/>), so the record is refreshed only every <c>Edge:ApiKeys:PushedRefreshInterval</c>, in the
    /// background: the cached entry answers meanwhile. Without a live feed, or for refusals, or past
    /// <c>Edge:ApiKeys:FailSafeMaxDuration</c>, the request waits for the lookup as before.
    /// </summary>
    private bool ServeWhileRefreshing(ApiKeyHotCache.Entry entry, ReadOnlySpan<byte> digest, long now)
    {
        if (entry.Identity is null || _revocationsPushed is null || !_revocationsPushed() || now - entry.FreshUntil > _staleServeTicks)
        {
            return false;
        }
        // Fetched after the feed's last snapshot (nothing missed since) and within the pushed interval: still current.
        var fetchedAt = entry.FreshUntil - _freshTicks;
        if (now - entry.FreshUntil < _pushedExtraTicks && fetchedAt >= Volatile.Read(ref _resynchronizedAt))
        {
            return true;
        }
        if (entry.ClaimRefresh())
        {
            _ = RefreshAsync(digest.ToArray());
        }
        return true;
    }

    /// <summary>
    /// A pushed change of key <paramref name="keyId"/> (a rotation): its cached records are dropped from every level, so
    /// the next request with any of its secrets is looked up and gets the record as it is now.
    /// </summary>
    /// <remarks>
    /// FusionCache first, by the key's tag: it also holds records of secrets the hot cache no longer does (evicted, or
    /// shed under memory pressure), which a lookup would otherwise answer from until they expire. Its memory level is
    /// dropped before this returns; Redis (L2) follows in the background. Called while the feed applies a change: a
    /// failure here is logged, never thrown into the feed.
    /// </remarks>
    private void Forget(string keyId)
    {
        try
        {
            _cache.RemoveByTag(keyId); // written as the cache's tag options say (ApiKeyServices)
        }
        catch (Exception ex)
        {
            LogForgetFailed(_logger, keyId, ex.GetType().Name, ex.Message);
        }
        foreach (var digest in _hot.Forget(keyId))
        {
            _ = _cache.RemoveAsync(Base64Url.EncodeToString(digest)).AsTask();
        }
        LogRecordChanged(_logger, keyId);
    }

    private async Task RefreshAsync(byte[] digest)
    {
        try
        {
            var digestText = Base64Url.EncodeToString(digest);
            var record = await _cache.GetOrSetAsync<ApiKeyRecord?>(digestText, (context, ct) => LookupAsync(digestText, context, ct), _entryOptions);
            _hot.Set(ToEntry(digest, record));
        }
        catch (Exception ex)
        {
            // The stale entry keeps answering (within FailSafeMaxDuration); a stale request a second from now tries again.
            LogLookupFailed(_logger, ex.GetType().Name, ex.Message);
            await Task.Delay(TimeSpan.FromSeconds(1), _time).ConfigureAwait(false);
            if (_hot.TryGetAny(digest, out var stale))
            {
                _hot.Set(new ApiKeyHotCache.Entry(stale.Digest, stale.Identity, stale.Rejection, stale.FreshUntil, stale.ExpiresAtUnix, stale.Usage));
            }
        }
    }

    /// <summary>
    /// The lookup of a key the hot cache could not answer (FusionCache, then the control plane): accepted, rejected or
    /// <see cref="AuthenticationKind.NeedsRevocationConfirmation"/>.
    /// </summary>
    public async Task<AuthenticationOutcome> LookUpAsync(string key, IPAddress? client, CancellationToken cancellationToken)
    {
        if (_budget.IsExhausted(client))
        {
            return AuthenticationOutcome.Rejected(EdgeError.TooManyFailures);
        }
        var digest = ApiKeyFormat.ComputeDigest(key);
        var digestText = Base64Url.EncodeToString(digest);
        ApiKeyRecord? record;
        try
        {
            record = await _cache.GetOrSetAsync<ApiKeyRecord?>(digestText, (context, ct) => LookupAsync(digestText, context, ct), _entryOptions, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Unknown key and no stale record to fall back on: refuse (never a 5xx, never an open door). The edge could
            // not decide, so the client is not charged.
            if (ex is LookupRejectedException || ex.InnerException is LookupRejectedException)
            {
                LogSaturationOncePerInterval();
            }
            else
            {
                LogLookupFailed(_logger, ex.GetType().Name, ex.Message);
            }
            return AuthenticationOutcome.Rejected(CannotVerify);
        }
        var entry = ToEntry(digest, record);
        _hot.Set(entry);
        return Decide(entry, client);
    }

    /// <summary>A random key (checksum-invalid, or unknown to the control plane): charged to this path's budget.</summary>
    private AuthenticationOutcome Charge(IPAddress? client, EdgeError reason)
    {
        _budget.RecordFailure(client);
        return AuthenticationOutcome.Rejected(reason);
    }

    /// <summary>The control-plane lookup bulkhead (diagnostics and tests).</summary>
    internal LookupBulkhead Bulkhead => _bulkhead;

    private void LogSaturationOncePerInterval()
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _saturationLoggedAt);
        if ((last == long.MinValue || now - last >= 10 * _time.TimestampFrequency) && Interlocked.CompareExchange(ref _saturationLoggedAt, now, last) == last)
        {
            LogLookupsSaturated(_logger, _bulkhead.Rejected);
        }
    }

    private async Task<ApiKeyRecord?> LookupAsync(string digest, FusionCacheFactoryExecutionContext<ApiKeyRecord?> context, CancellationToken cancellationToken)
    {
        if (_controlPlane is null)
        {
            context.Options.Duration = _negativeDuration;
            return null;
        }
        var record = await _bulkhead.RunAsync(ct => _controlPlane.LookupApiKeyAsync(digest, ct), cancellationToken);
        if (record is null)
        {
            context.Options.Duration = _negativeDuration;
        }
        else
        {
            context.Tags = [record.Id]; // a pushed change of the key drops it by this tag (Forget)
        }
        return record;
    }

    private ApiKeyHotCache.Entry ToEntry(byte[] digest, ApiKeyRecord? record)
    {
        var now = _time.GetTimestamp();
        if (record is null)
        {
            return new ApiKeyHotCache.Entry(digest, null, Invalid, now + _negativeTicks, long.MaxValue, null);
        }
        var rejection = record.Revoked ? Revoked
            : !string.Equals(record.Environment, _environment == ApiKeyEnvironment.Live ? "live" : "test", StringComparison.Ordinal) ? Invalid
            : null;
        var expiresAt = record.ExpiresAt?.ToUnixTimeSeconds() ?? long.MaxValue;
        var identity = rejection is null ? FromRecord(record, expiresAt) : null;
        return new ApiKeyHotCache.Entry(digest, identity, rejection, now + _freshTicks, expiresAt, rejection is null ? _usage.For(record.Id) : null);
    }

    private static EdgeIdentity FromRecord(ApiKeyRecord record, long expiresAt)
    {
        // Keys of one org mostly share a scope set and the org: held once (IdentityInterning), not per cached key.
        var scopes = IdentityInterning.Scopes(record.Scopes);
        var org = IdentityInterning.String(record.OrgId);
        return new EdgeIdentity
        {
            Subject = null,
            KeyId = record.Id,
            Org = org,
            Scopes = scopes.Scopes,
            Granted = scopes.Granted,
            ScopesHeader = scopes.Header,
            OrgHeader = IdentityInterning.String(IdentityHeaderValue.Encode(org!)),
            AuthType = IdentityHeaders.AuthTypeApiKey,
            ExpiresAt = expiresAt,
            IssuedAt = long.MinValue,
        };
    }

    private AuthenticationOutcome Decide(ApiKeyHotCache.Entry entry, IPAddress? client)
    {
        if (entry.Rejection is not null)
        {
            // Unknown (a random key) is charged; a real key that was revoked is its owner's state, not an attack.
            return ReferenceEquals(entry.Rejection, Invalid) ? Charge(client, Invalid) : AuthenticationOutcome.Rejected(entry.Rejection);
        }
        var now = _time.GetUtcNow();
        if (now.ToUnixTimeSeconds() >= entry.ExpiresAtUnix)
        {
            return AuthenticationOutcome.Rejected(Expired);
        }
        var verdict = _revocation.Check(entry.Identity!);
        if (verdict == RevocationVerdict.Revoked)
        {
            return AuthenticationOutcome.Rejected(Revoked);
        }
        entry.Usage!.Record(now.ToUnixTimeMilliseconds());
        // A bloom positive only Redis can settle: the pipeline confirms it before the request goes on.
        return verdict == RevocationVerdict.Unconfirmed
            ? AuthenticationOutcome.NeedsRevocationConfirmation(entry.Identity!)
            : AuthenticationOutcome.Accepted(entry.Identity!);
    }
}
