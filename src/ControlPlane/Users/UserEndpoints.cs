using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Mfa;
using Authio.ControlPlane.RateLimiting;

namespace Authio.ControlPlane.Users;

internal sealed record CreateUserRequest(
    [property: Required, StringLength(Bounds.MaxNewEmailLength)] string? Email,
    [property: Required, StringLength(Bounds.MaxNewPasswordLength, ErrorMessage = Bounds.NewPasswordTooLong)] string? Password,
    [property: Required, StringLength(Bounds.MaxRoleLength)] string? Role);
internal sealed record AssignRoleRequest(
    [property: Required, StringLength(Bounds.MaxRoleLength)] string? Role,
    [property: JsonPropertyName("project_id"), StringLength(Bounds.MaxIdLength)] string? ProjectId = null);
internal sealed record ChangePasswordRequest(
    [property: JsonPropertyName("current_password"), StringLength(Bounds.MaxPresentedPasswordLength)] string? CurrentPassword = null,
    [property: JsonPropertyName("new_password"), Required, StringLength(Bounds.MaxNewPasswordLength, ErrorMessage = Bounds.NewPasswordTooLong)] string? NewPassword = null);
internal sealed record EffectiveRole(string Role, IReadOnlyList<string> Scopes, [property: JsonPropertyName("project_id")] string? ProjectId);

internal static class UserEndpoints
{
    private const int DefaultPage = 50;

    public static void MapUserEndpoints(this RouteGroupBuilder v1)
    {
        var g = v1.MapGroup("/users").WithTags("Users");
        g.MapGet("/", async Task<IResult> (string? q, [Range(1, Paging.MaxLimit)] int? limit, [StringLength(Paging.MaxCursorLength)] string? cursor,
                UserService users, HttpContext http) =>
            {
                var org = Caller.Of(http).OrgId;
                if (q is null && limit is null && cursor is null)
                {
                    // Without paging parameters: every user, as this endpoint has always answered.
                    return Results.Ok(await users.ListAsync(org, http.RequestAborted));
                }

                string? after = null;
                if (cursor is not null)
                {
                    if (Paging.Keys(cursor, "users", 1) is not [var email])
                    {
                        return Failure.Invalid("cursor", Paging.BadCursor);
                    }

                    after = email;
                }

                var (page, more) = await users.PageAsync(org, q, after, limit ?? DefaultPage, http.RequestAborted);
                Paging.Next(http, more ? Paging.Cursor("users", page[^1].Email) : null);
                return Results.Ok(page);
            })
            .Produces<List<UserView>>()
            .WithSummary("List the org's users; with q (email or id contains, any case), limit (1-200, default 50) or cursor: one page in email order, Link rel=\"next\" when more follow");
        g.MapGet("/{id}", async (string id, UserService users, HttpContext http) =>
                await users.GetAsync(Caller.Of(http).OrgId, id, http.RequestAborted) is { } u ? Results.Ok(u) : Failure.NotFound("User"))
            .Produces<UserView>().WithSummary("Get a user");
        g.MapGet("/{id}/effective-role", async (string id, string? project_id, UserService users, HttpContext http) =>
            {
                if (await users.GetAsync(Caller.Of(http).OrgId, id, http.RequestAborted) is not { } u)
                {
                    return Failure.NotFound("User");
                }

                var role = Roles.Higher(u.Role, project_id is not null && u.ProjectRoles.TryGetValue(project_id, out var p) ? p : null);
                return Results.Ok(new EffectiveRole(role, Roles.ScopesOf(role), project_id));
            })
            .Produces<EffectiveRole>().WithSummary("The role that applies org-wide or on a project (the higher of the two)");
        g.MapPost("/", async (CreateUserRequest body, UserService users, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                return (await users.CreateAsync(caller.OrgId, body.Email, body.Password, body.Role, caller, http.RequestAborted))
                    .ToResult(u => Results.Created($"/v1/users/{u.Id}", u));
            })
            .AddEndpointFilter<AdminFilter>().Produces<UserView>(201).ProducesProblem(409).WithSummary("Create a user (mod)");
        g.MapPost("/{id}/deactivate", async (string id, UserService users, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                return (await users.DeactivateAsync(caller.OrgId, id, caller, http.RequestAborted)).ToResult(Results.Ok);
            })
            .AddEndpointFilter<AdminFilter>().Produces<UserView>().ProducesProblem(409).WithSummary("Deactivate a user and end their sessions (mod)");
        g.MapPut("/{id}/role", async (string id, AssignRoleRequest body, UserService users, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                return (await users.AssignRoleAsync(caller.OrgId, id, body.Role, body.ProjectId, caller, http.RequestAborted)).ToResult(Results.Ok);
            })
            .AddEndpointFilter<AdminFilter>().RequireStepUp("role.assign").Produces<UserView>().WithSummary("Assign a role org-wide or on a project (mod)");
        g.MapDelete("/{id}/role", async (string id, string? project_id, UserService users, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                return (await users.RevokeRoleAsync(caller.OrgId, id, project_id, caller, http.RequestAborted)).ToResult(Results.Ok);
            })
            .AddEndpointFilter<AdminFilter>().RequireStepUp("role.revoke").Produces<UserView>().WithSummary("Revoke a project role, or reset the org-wide role to explore (mod)");
        g.MapPost("/{id}/password", async (string id, ChangePasswordRequest body, UserService users, AuthRateLimiter limiter, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                if (id != caller.UserId && !caller.IsAdmin)
                {
                    return Failure.Forbidden();
                }
                // Per account = the user whose password changes (and whose current password a stolen token would guess),
                // before any bcrypt runs.
                var limited = await limiter.CheckAccountAsync(LimitedAction.Password, id, http.RequestAborted);
                if (!limited.Admitted)
                {
                    return RateLimitEndpoints.Refused(LimitedAction.Password, limited);
                }

                return (await users.ChangePasswordAsync(caller.OrgId, id, body.CurrentPassword, body.NewPassword, caller, http.RequestAborted))
                    .ToResult(_ => Results.NoContent());
            })
            .RequireAuthRateLimit(LimitedAction.Password)
            .Produces(204).WithSummary("Change a password (self with current password, or mod); ends all other sessions");
    }
}
