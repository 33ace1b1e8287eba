using Authio.Shared.Configuration;

namespace Authio.ControlPlane.Hosting;

/// <summary>
/// <c>ControlPlane:Webhooks</c>: outbound webhook delivery. Defaults are the documented ones; <see cref="Validate"/>
/// stops start-up naming the first bad key.
/// </summary>
internal sealed class WebhookOptions
{
    private const string Key = "ControlPlane:Webhooks:";

    /// <summary>
    /// When true, endpoints on private, loopback, link-local and other internal addresses are allowed, and so is
    /// <c>http</c>. Default false: https to public addresses only. For tests and closed networks.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>How long one delivery attempt may take, connect to last response byte. Default 10 s; 1–30 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries stop this long after the event; the delivery is then dead-lettered. Default 24 h; 1 min – 7 d.</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Backoff before the first retry (doubling per attempt, with jitter). Default 10 s; 1 s – 1 h.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait between two attempts. Default 1 h; at least <see cref="InitialBackoff"/>, at most 24 h.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Deliveries in flight per instance, all endpoints together. Default 32; 1–256.</summary>
    public int MaxConcurrency { get; set; } = 32;

    /// <summary>Deliveries in flight per endpoint and instance. Default 4; 1–64.</summary>
    public int MaxConcurrencyPerEndpoint { get; set; } = 4;

    /// <summary>Consecutive failures that open an endpoint's circuit. Default 5; 1–100.</summary>
    public int BreakerThreshold { get; set; } = 5;

    /// <summary>How long an open circuit holds the endpoint's deliveries before one is tried again. Default 30 s; 1 s – 1 h.</summary>
    public TimeSpan BreakerCooldown { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the outbox is read for due retries and other instances' events. Default 1 s; 50 ms – 1 min.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long delivered and dead-lettered deliveries stay in the log. Default 30 d; 1–365 d.</summary>
    public TimeSpan LogRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Webhooks one org may have. Default 20; 1–1000.</summary>
    public int MaxPerOrg { get; set; } = 20;

    public void Validate()
    {
        Require(Timeout >= TimeSpan.FromSeconds(1) && Timeout <= TimeSpan.FromSeconds(30), "Timeout", "must be between 1 and 30 seconds");
        Require(RetryFor >= TimeSpan.FromMinutes(1) && RetryFor <= TimeSpan.FromDays(7), "RetryFor", "must be between 1 minute and 7 days");
        Require(InitialBackoff >= TimeSpan.FromSeconds(1) && InitialBackoff <= TimeSpan.FromHours(1), "InitialBackoff", "must be between 1 second and 1 hour");
        Require(MaxBackoff >= InitialBackoff && MaxBackoff <= TimeSpan.FromHours(24), "MaxBackoff", "must be at least InitialBackoff and at most 24 hours");
        Require(MaxConcurrency is >= 1 and <= 256, "MaxConcurrency", "must be between 1 and 256");
        Require(MaxConcurrencyPerEndpoint is >= 1 and <= 64, "MaxConcurrencyPerEndpoint", "must be between 1 and 64");
        Require(BreakerThreshold is >= 1 and <= 100, "BreakerThreshold", "must be between 1 and 100");
        Require(BreakerCooldown >= TimeSpan.FromSeconds(1) && BreakerCooldown <= TimeSpan.FromHours(1), "BreakerCooldown", "must be between 1 second and 1 hour");
        Require(PollInterval >= TimeSpan.FromMilliseconds(50) && PollInterval <= TimeSpan.FromMinutes(1), "PollInterval", "must be between 50 ms and 1 minute");
        Require(MaxPerOrg is >= 1 and <= 1000, "MaxPerOrg", "must be between 1 and 1000");
        Require(LogRetention >= TimeSpan.FromDays(1) && LogRetention <= TimeSpan.FromDays(365), "LogRetention", "must be between 1 and 365 days");
    }

    private static void Require(bool ok, string name, string problem)
    {
        if (!ok)
        {
            throw new ConfigurationException(Key + name, problem);
        }
    }
}
