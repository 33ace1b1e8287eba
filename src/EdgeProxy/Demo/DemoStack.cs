using Authio.Shared.Tokens;

namespace Authio.EdgeProxy.Demo;

/// <summary>
/// <c>Edge:Demo:Enabled=true</c>: a dev issuer, a demo upstream and routes wired into this process, so one command
/// shows the whole request path. Configuration given explicitly still applies; the demo only adds its own entries.
/// </summary>
internal sealed class DemoStack : IAsyncDisposable
{
    private const string IssuerIndex = "90";
    private readonly DevIssuer _issuer = new();
    private readonly DirectoryInfo _dir;
    private readonly string _jwksPath;
    private readonly int _upstreamPort;
    private WebApplication? _upstream;

    private DemoStack(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        // A fresh directory with a random name, owner-only (0700 on Unix): a predictable /tmp path could be created or
        // replaced by another local user beforehand, handing them the demo's trusted key set.
        _dir = Directory.CreateTempSubdirectory("authio-demo-");
        _jwksPath = Path.Combine(_dir.FullName, "jwks.json");
        File.WriteAllText(_jwksPath, _issuer.JwksJson());
    }

    public static DemoStack Configure(IConfigurationManager configuration)
    {
        var demo = new DemoStack(configuration.GetValue("Edge:Demo:UpstreamPort", 5081));
        var upstream = $"http://127.0.0.1:{demo._upstreamPort}/";
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"Edge:Issuers:{IssuerIndex}:Issuer"] = DevIssuer.IssuerName,
            [$"Edge:Issuers:{IssuerIndex}:Name"] = DevIssuer.RouteName,
            [$"Edge:Issuers:{IssuerIndex}:Audiences:0"] = DevIssuer.Audience,
            [$"Edge:Issuers:{IssuerIndex}:JwksUri"] = demo._jwksPath,
            ["ReverseProxy:Routes:demo-api:ClusterId"] = "demo-upstream",
            ["ReverseProxy:Routes:demo-api:Match:Path"] = "/api/{**rest}",
            ["ReverseProxy:Routes:demo-public:ClusterId"] = "demo-upstream",
            ["ReverseProxy:Routes:demo-public:Match:Path"] = "/public/{**rest}",
            ["ReverseProxy:Routes:demo-public:Metadata:Authio.Anonymous"] = "true",
            ["ReverseProxy:Routes:demo-admin:ClusterId"] = "demo-upstream",
            ["ReverseProxy:Routes:demo-admin:Match:Path"] = "/admin/{**rest}",
            ["ReverseProxy:Routes:demo-admin:Metadata:Authio.Scopes"] = "admin",
            ["ReverseProxy:Routes:demo-orgs:ClusterId"] = "demo-upstream",
            ["ReverseProxy:Routes:demo-orgs:Match:Path"] = "/orgs/{org}/{**rest}",
            ["ReverseProxy:Routes:demo-orgs:Metadata:Authio.OrgRouteValue"] = "org",
            ["ReverseProxy:Routes:demo-orgs:Metadata:Authio.Scopes"] = "read:applications",
            ["ReverseProxy:Clusters:demo-upstream:Destinations:d1:Address"] = upstream,
        });
        return demo;
    }

    public async Task StartUpstreamAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{_upstreamPort}");
        builder.Logging.ClearProviders();
        _upstream = builder.Build();
        // Echoes what the upstream received, so the demo shows exactly which identity the edge asserted.
        _upstream.Map("/{**path}", (HttpContext context) => Results.Json(new
        {
            upstream = "demo",
            path = context.Request.Path.Value,
            identity = context.Request.Headers
                .Where(h => h.Key.StartsWith(IdentityHeaders.Prefix, StringComparison.OrdinalIgnoreCase))
                .ToDictionary(h => h.Key, h => h.Value.ToString()),
            authorizationForwarded = context.Request.Headers.Authorization.Count > 0,
        }));
        await _upstream.StartAsync(cancellationToken);
    }

    public void PrintWelcome(string proxyUrl, string adminUrl)
    {
        var now = DateTimeOffset.UtcNow;
        var reader = _issuer.Mint("user_alice", "org_acme", "read:applications write:applications", now, TimeSpan.FromHours(1));
        var admin = _issuer.Mint("user_root", "org_acme", "read:applications admin", now, TimeSpan.FromHours(1));
        var expired = _issuer.Mint("user_alice", "org_acme", "read:applications", now.AddHours(-2), TimeSpan.FromHours(1));
        var url = proxyUrl.Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "127.0.0.1").TrimEnd('/');
        Console.WriteLine($"""

            ==== Authio Edge demo ====
            edge  : {url}   (admin: {adminUrl}/metrics, /readyz)
            issuer: {DevIssuer.IssuerName} (kid {_issuer.Kid}), upstream: http://127.0.0.1:{_upstreamPort}

            READER={reader}
            ADMIN={admin}
            EXPIRED={expired}

            # 200: authenticated, upstream sees X-Authio-Subject/Org/Scopes
            curl -s {url}/api/hello -H "Authorization: Bearer $READER"
            # 200: org route matches the token's org
            curl -s {url}/orgs/org_acme/applications -H "Authorization: Bearer $READER"
            # 200: anonymous route
            curl -s {url}/public/status
            # 401 unauthorized: no token
            curl -s -i {url}/api/hello
            # 401 token_expired
            curl -s {url}/api/hello -H "Authorization: Bearer $EXPIRED"
            # 403 forbidden: reader lacks 'admin'
            curl -s -i {url}/admin/users -H "Authorization: Bearer $READER"
            # 403 org_mismatch
            curl -s {url}/orgs/org_other/applications -H "Authorization: Bearer $READER"
            # 200 with the admin token
            curl -s {url}/admin/users -H "Authorization: Bearer $ADMIN"
            ==========================

            """);
    }

    public async Task StopAsync()
    {
        if (_upstream is not null)
        {
            await _upstream.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
        _issuer.Dispose();
        _dir.Delete(recursive: true);
    }

    /// <summary>Where the demo issuer's key set is written (tests).</summary>
    internal string JwksPath => _jwksPath;
}
