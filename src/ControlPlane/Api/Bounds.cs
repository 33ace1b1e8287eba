using System.Collections;
using System.ComponentModel.DataAnnotations;

namespace Authio.ControlPlane.Api;

/// <summary>Lengths shared by several request records; each is published in the OpenAPI schema and enforced by <see cref="RequestBounds"/>.</summary>
internal static class Bounds
{
    /// <summary>Ids (<c>org_…</c>, <c>usr_…</c>, project ids): ours are about 30 characters.</summary>
    public const int MaxIdLength = 100;
    /// <summary>RFC 5321's path limit; sign-in refuses longer input before any work.</summary>
    public const int MaxEmailLength = 320;
    /// <summary>New accounts: RFC 5321's mailbox limit, as the user service has always checked.</summary>
    public const int MaxNewEmailLength = 254;
    /// <summary>A password presented for checking (sign-in, current password): generous, bcrypt reads 72 bytes.</summary>
    public const int MaxPresentedPasswordLength = 1024;
    /// <summary>A password being set: bcrypt's 72 bytes (the policy also counts UTF-8 bytes).</summary>
    public const int MaxNewPasswordLength = Passwords.PasswordPolicy.MaxBytes;
    public const string NewPasswordTooLong = "must be at most 72 bytes (UTF-8): bcrypt ignores the rest.";
    public const int MaxRoleLength = 32;
    /// <summary>Scope names: action (32) + ':' + resource (64).</summary>
    public const int MaxScopeLength = 97;
    /// <summary>
    /// Refresh tokens and tokens given to <c>/oauth/*</c>: ours are well under 1 KiB. A longer refresh token is a 400; a
    /// longer token at <c>/oauth/*</c> is simply not a valid token (RFC 7009/7662: 200, nothing revoked / inactive).
    /// </summary>
    public const int MaxTokenLength = 8192;
}

/// <summary>Every string in a collection is at most <see cref="Length"/> characters (published as the items' <c>maxLength</c>).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
internal sealed class ItemLengthAttribute(int length) : ValidationAttribute
{
    public int Length { get; } = length;

    public override bool IsValid(object? value) =>
        value is not IEnumerable items || value is string || items.Cast<object?>().All(i => i is not string s || s.Length <= Length);

    public override string FormatErrorMessage(string name) => $"every entry must be at most {Length} characters.";
}
