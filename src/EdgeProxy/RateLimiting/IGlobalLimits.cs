using Authio.EdgeProxy.Configuration;

namespace Authio.EdgeProxy.RateLimiting;

/// <summary>
/// Checks a <c>global</c> limit's bucket: fleet-wide through Redis (<c>Redis/GlobalLeases</c>), or this edge's share
/// alone (<see cref="LocalShareLimits"/>, without <c>Edge:Redis</c>).
/// </summary>
internal interface IGlobalLimits
{
    RateLimitDecision Check(Bucket bucket, long now);
}

/// <summary>No Redis: a global limit is enforced as this edge's share, <c>limit / Edge:RateLimits:ExpectedEdges</c>.</summary>
internal sealed class LocalShareLimits(int expectedEdges, TimeProvider time) : IGlobalLimits
{
    public LocalShareLimits(EdgeOptions options, TimeProvider time)
        : this(options.RateLimits.ExpectedEdges, time)
    {
    }

    public RateLimitDecision Check(Bucket bucket, long now)
    {
        var share = bucket.Limit.LocalShare(expectedEdges);
        var decision = RateLimiter.Local(bucket, share, now, time.TimestampFrequency);
        // A refusal re-checks on the exact clock (now may be the limiter's cached time, up to a tick late).
        return decision.Allowed ? decision : RateLimiter.Local(bucket, share, time.GetTimestamp(), time.TimestampFrequency);
    }
}
