using System.Security.Cryptography;
using System.Text;
using Authio.Shared.Fleet;

namespace Authio.EdgeProxy.Fleet;

/// <summary><c>Edge:Fleet</c>: the status this edge reports to its control plane (<c>GET /v1/edges</c> there).</summary>
internal sealed class FleetOptions
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxInterval = TimeSpan.FromMinutes(5);

    /// <summary>Report status when a control plane is configured (<c>Edge:ControlPlane:Url</c>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How the control plane lists this edge; default the host name plus a suffix stable for this installation (<see cref="DefaultEdgeId"/>).</summary>
    public string? EdgeId { get; set; }

    /// <summary>Report period, the same cadence as the API-key usage reports.</summary>
    public TimeSpan ReportInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Routes given their own latency recorder (each about 50 KB); further route ids are not reported.</summary>
    public int MaxRoutes { get; set; } = 200;

    /// <summary>The configured id, or the default one.</summary>
    public string ResolvedEdgeId(string adminUrls) => string.IsNullOrWhiteSpace(EdgeId) ? DefaultEdgeId(Environment.MachineName, adminUrls) : EdgeId;

    /// <summary>
    /// The host name (lower case, other characters as <c>-</c>) and 8 hex digits of a hash of the host name, the install
    /// directory and the admin URLs: stable across restarts, different for two edges sharing one host.
    /// </summary>
    public static string DefaultEdgeId(string machineName, string adminUrls)
    {
        var host = new string(machineName.ToLowerInvariant().Select(c => FleetPaths.IsEdgeIdChar(c) ? c : '-').Take(64).ToArray());
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{machineName}\n{AppContext.BaseDirectory}\n{adminUrls}"));
        return $"{(host.Length == 0 ? "edge" : host)}-{Convert.ToHexStringLower(hash.AsSpan(0, 4))}";
    }

    /// <summary>Bad values, each naming its key.</summary>
    public static IEnumerable<string> Validate(FleetOptions options)
    {
        if (options.EdgeId is { } id && !string.IsNullOrWhiteSpace(id) && !FleetPaths.IsValidEdgeId(id))
        {
            yield return $"Edge:Fleet:EdgeId must be 1–{FleetPaths.MaxNameLength} characters of letters, digits, '.', '_', '-' or ':'.";
        }
        if (options.ReportInterval < MinInterval || options.ReportInterval > MaxInterval)
        {
            yield return "Edge:Fleet:ReportInterval must be between 00:00:00.100 and 00:05:00.";
        }
        if (options.MaxRoutes is < 1 or > FleetPaths.MaxRoutes)
        {
            yield return $"Edge:Fleet:MaxRoutes must be between 1 and {FleetPaths.MaxRoutes}.";
        }
    }
}
