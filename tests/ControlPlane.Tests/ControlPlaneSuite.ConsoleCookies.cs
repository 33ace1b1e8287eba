using System.Net;
using System.Net.Http.Json;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Tests;

/// <summary>The browser sign-in of the admin console: refresh token only in an HttpOnly cookie, CSRF on its use.</summary>
public abstract partial class ControlPlaneSuite
{
    private const string RefreshCookieName = "__Secure-authio-refresh";
    private const string CsrfCookieName = "__Host-authio-csrf";

    [SuiteFact]
    public async Task Browser_sign_in_keeps_the_refresh_token_in_an_httponly_cookie_that_only_a_same_origin_csrf_header_can_use()
    {
        var (_, email) = await F.CreateUserAsync();
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = F.Http.BaseAddress };

        // Cross-site sign-in (login CSRF) is refused before any password check.
        using (var crossSite = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/cookie/login")
        {
            Content = JsonContent.Create(new { email, password = ControlPlaneFixture.DefaultPassword }),
        })
        {
            crossSite.Headers.Add("Sec-Fetch-Site", "cross-site");
            await (await http.SendAsync(crossSite)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        }

        using var login = await http.PostAsJsonAsync("/v1/auth/cookie/login", new { email, password = ControlPlaneFixture.DefaultPassword });
        var body = await login.BodyAsync(HttpStatusCode.OK);
        Assert.NotNull(body["access_token"]);
        Assert.Null(body["refresh_token"]);
        Assert.Equal("no-store", login.Headers.CacheControl?.ToString());
        var setCookies = login.Headers.GetValues("Set-Cookie").ToList();
        var refreshCookie = Assert.Single(setCookies, c => c.StartsWith(RefreshCookieName + "=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.Contains("httponly", refreshCookie, StringComparison.Ordinal);
        Assert.Contains("secure", refreshCookie, StringComparison.Ordinal);
        Assert.Contains("samesite=strict", refreshCookie, StringComparison.Ordinal);
        Assert.Contains("path=/v1/auth/cookie", refreshCookie, StringComparison.Ordinal);
        var csrfCookie = Assert.Single(setCookies, c => c.StartsWith(CsrfCookieName + "=", StringComparison.Ordinal));
        Assert.DoesNotContain("httponly", csrfCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", csrfCookie, StringComparison.Ordinal);

        var jar = Cookies(setCookies);
        var csrf = jar[CsrfCookieName];
        // Without the header, with a wrong one, or marked cross-site by the browser: refused, and nothing rotates.
        await (await CookieRefreshAsync(http, jar, null)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await CookieRefreshAsync(http, jar, "not-the-cookie-value")).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await CookieRefreshAsync(http, jar, csrf, "cross-site")).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);

        using var refreshed = await CookieRefreshAsync(http, jar, csrf, "same-origin");
        var next = await refreshed.BodyAsync(HttpStatusCode.OK);
        Assert.Null(next["refresh_token"]);
        var rotated = Cookies(refreshed.Headers.GetValues("Set-Cookie"));
        Assert.NotEqual(jar[RefreshCookieName], rotated[RefreshCookieName]);
        await (await F.SendAsync(HttpMethod.Get, "/v1/org", (string)next["access_token"]!)).BodyAsync(HttpStatusCode.OK);

        // The cookie rotates like a refresh token: presenting the old one again ends the session and clears the cookies.
        using var reused = await CookieRefreshAsync(http, jar, csrf);
        await reused.ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.Contains(reused.Headers.GetValues("Set-Cookie"), c => c.StartsWith(RefreshCookieName + "=;", StringComparison.Ordinal));
        await (await F.SendAsync(HttpMethod.Get, "/v1/org", (string)next["access_token"]!)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);

        // Clearing the cookies needs the CSRF header too.
        using (var logout = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/cookie/logout"))
        {
            logout.Headers.Add("Cookie", $"{CsrfCookieName}={csrf}");
            await (await http.SendAsync(logout)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        }
        using (var logout = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/cookie/logout"))
        {
            logout.Headers.Add("Cookie", $"{CsrfCookieName}={csrf}");
            logout.Headers.Add("X-CSRF-Token", csrf);
            using var cleared = await http.SendAsync(logout);
            Assert.Equal(HttpStatusCode.NoContent, cleared.StatusCode);
            Assert.Contains(cleared.Headers.GetValues("Set-Cookie"), c => c.StartsWith(RefreshCookieName + "=;", StringComparison.Ordinal));
        }
    }

    private static Dictionary<string, string> Cookies(IEnumerable<string> setCookies) =>
        setCookies.Select(c => c.Split(';')[0].Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    private static Task<HttpResponseMessage> CookieRefreshAsync(HttpClient http, Dictionary<string, string> jar, string? csrf, string? site = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/cookie/refresh");
        request.Headers.Add("Cookie", string.Join("; ", jar.Select(kv => $"{kv.Key}={kv.Value}")));
        if (csrf is not null)
        {
            request.Headers.Add("X-CSRF-Token", csrf);
        }
        if (site is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", site);
        }
        return http.SendAsync(request);
    }
}
