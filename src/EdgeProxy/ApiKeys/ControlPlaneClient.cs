using System.Net;
using Authio.EdgeProxy.Sync;
using Authio.Shared.ApiKeys;
using Authio.Shared.Sync;

namespace Authio.EdgeProxy.ApiKeys;

/// <summary>The edge's calls to its control plane, authenticated with the edge's own <c>edge:sync</c> key.</summary>
internal sealed class ControlPlaneClient(HttpClient http)
{
    public const string HttpClientName = "Authio.ControlPlane";

    /// <summary>The key with that digest, or null when the control plane knows none. Throws when it cannot answer.</summary>
    public async Task<ApiKeyRecord?> LookupApiKeyAsync(string digest, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(EdgeApiKeyPaths.Lookup, new ApiKeyLookupRequest(digest), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<ApiKeyRecord>(cancellationToken)
            ?? throw new HttpRequestException("The control plane returned an empty API key record.");
    }

    public async Task<EdgeSnapshot> GetSnapshotAsync(CancellationToken cancellationToken) =>
        FeedRecords.EnsureComplete(await http.GetFromJsonAsync<EdgeSnapshot>(EdgeSyncPaths.Snapshot, cancellationToken)
            ?? throw new HttpRequestException("The control plane returned an empty snapshot."));

    /// <summary>Changes after <paramref name="after"/>, long-polling up to <paramref name="waitSeconds"/> when there are none yet.</summary>
    public async Task<EdgeChangeBatch> GetChangesAsync(long after, int waitSeconds, CancellationToken cancellationToken) =>
        FeedRecords.EnsureComplete(await http.GetFromJsonAsync<EdgeChangeBatch>($"{EdgeSyncPaths.Changes}?after={after}&wait={waitSeconds}", cancellationToken)
            ?? throw new HttpRequestException("The control plane returned an empty change batch."));

    public async Task ReportUsageAsync(ApiKeyUsageReport report, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(EdgeApiKeyPaths.Usage, report, cancellationToken);
        response.EnsureSuccessStatusCode();
    }
}
