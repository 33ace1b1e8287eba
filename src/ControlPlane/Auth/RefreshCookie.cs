using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Authio.ControlPlane.Auth;

/// <summary>
/// The browser console's refresh token lives in an <c>HttpOnly; Secure; SameSite=Strict</c> cookie sent only to
/// <see cref="Path"/>, so page script never sees it and no other endpoint receives it. A second, readable cookie holds
/// a random CSRF value that the page echoes in <see cref="CsrfHeader"/> (double submit): a cross-site page can neither
/// read the cookie nor set the header without a CORS preflight this server never grants.
/// </summary>
internal static class RefreshCookie
{
    public const string Path = "/v1/auth/cookie";
    /// <summary><c>__Secure-</c>: browsers refuse it unless it is Secure and set by a secure origin (https or loopback).</summary>
    public const string Name = "__Secure-authio-refresh";
    /// <summary><c>__Host-</c>: Secure, Path=/, no Domain, so a sibling subdomain cannot plant one.</summary>
    public const string CsrfName = "__Host-authio-csrf";
    /// <summary>Not <c>X-Authio-*</c>: the edge strips those from every request, so the console could not refresh behind it.</summary>
    public const string CsrfHeader = "X-CSRF-Token";

    /// <summary>Sets both cookies; the CSRF value is readable by the page (it reads <c>document.cookie</c>).</summary>
    public static void Set(HttpResponse response, string refreshToken, TimeSpan lifetime)
    {
        response.Cookies.Append(Name, refreshToken, new CookieOptions
        {
            HttpOnly = true, Secure = true, SameSite = SameSiteMode.Strict, Path = Path, MaxAge = lifetime, IsEssential = true,
        });
        response.Cookies.Append(CsrfName, Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24)), new CookieOptions
        {
            HttpOnly = false, Secure = true, SameSite = SameSiteMode.Strict, Path = "/", MaxAge = lifetime, IsEssential = true,
        });
    }

    public static void Clear(HttpResponse response)
    {
        response.Cookies.Delete(Name, new CookieOptions { HttpOnly = true, Secure = true, SameSite = SameSiteMode.Strict, Path = Path });
        response.Cookies.Delete(CsrfName, new CookieOptions { Secure = true, SameSite = SameSiteMode.Strict, Path = "/" });
    }

    /// <summary>
    /// True when the request is same-origin by the browser's own account (<c>Sec-Fetch-Site</c>, when sent) and, when
    /// <paramref name="requireToken"/>, carries the CSRF cookie and the same value in <see cref="CsrfHeader"/>.
    /// </summary>
    public static bool SameOrigin(HttpRequest request, bool requireToken)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none"))
        {
            return false;
        }

        if (!requireToken)
        {
            return true;
        }

        var cookie = request.Cookies[CsrfName];
        var header = request.Headers[CsrfHeader].ToString();
        return !string.IsNullOrEmpty(cookie) && header.Length == cookie.Length &&
            CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header), Encoding.UTF8.GetBytes(cookie));
    }
}
