using System.Collections;
using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Serialization;

namespace Authio.ControlPlane.Api;

/// <summary>
/// Enforces the bounds the OpenAPI document publishes: the data annotations on request records and on handler
/// parameters (<c>[Range]</c>, <c>[StringLength]</c>, <c>[MaxLength]</c>, <c>[MinLength]</c>, <c>[Required]</c>), and a
/// default length cap on every path and query value. A violation is 400 <c>validation_failed</c> with
/// <c>errors.&lt;field&gt;</c> (the JSON name), before the handler runs, so nothing is written.
/// </summary>
internal static class RequestBounds
{
    /// <summary>Every path or query value without its own bound: ids are far shorter, filters and cursors too.</summary>
    public const int MaxParameterLength = 200;

    private static readonly ConcurrentDictionary<Type, Field[]> Fields = new();

    private sealed record Field(PropertyInfo Property, string JsonName, ValidationAttribute[] Attributes);

    public static EndpointFilterDelegate Filter(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        var checks = new List<(int Index, string Name, ValidationAttribute[] Attributes, bool Nested)>();
        var parameters = context.MethodInfo.GetParameters();
        for (var i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            var attributes = p.GetCustomAttributes<ValidationAttribute>(inherit: true).ToArray();
            var nested = IsValidatable(p.ParameterType);
            if (attributes.Length > 0 || nested)
            {
                checks.Add((i, p.Name ?? "", attributes, nested));
            }
        }
        return async invocation =>
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            CheckRawValues(invocation.HttpContext, errors);
            foreach (var (index, name, attributes, nested) in checks)
            {
                var value = index < invocation.Arguments.Count ? invocation.Arguments[index] : null;
                Check(value, name, attributes, errors);
                if (nested && value is not null)
                {
                    Validate(value, "", errors, depth: 0);
                }
            }
            return errors.Count > 0 ? Failure.Invalid(errors) : await next(invocation);
        };
    }

    /// <summary>Path and query values are checked as sent, whatever type they bind to.</summary>
    private static void CheckRawValues(HttpContext http, Dictionary<string, string[]> errors)
    {
        foreach (var (key, value) in http.Request.RouteValues)
        {
            if (value is string s && s.Length > MaxParameterLength)
            {
                errors[key] = [$"must be at most {MaxParameterLength} characters."];
            }
            else if (HasNul(value))
            {
                errors[key] = [NulMessage];
            }
        }
        foreach (var (key, values) in http.Request.Query)
        {
            if (key.Length > MaxParameterLength)
            {
                errors["query"] = [$"parameter names must be at most {MaxParameterLength} characters."];
            }
            else if (values.Count > 1)
            {
                errors[key] = ["must be given at most once."];
            }
            else if (values.ToString().Length > MaxParameterLength)
            {
                errors[key] = [$"must be at most {MaxParameterLength} characters."];
            }
            else if (HasNul(values.ToString()))
            {
                errors[key] = [NulMessage];
            }
        }
    }

    private static void Validate(object value, string prefix, Dictionary<string, string[]> errors, int depth)
    {
        if (depth > 8)
        {
            return;
        }

        foreach (var field in FieldsOf(value.GetType()))
        {
            var v = field.Property.GetValue(value);
            var name = prefix + field.JsonName;
            Check(v, name, field.Attributes, errors);
            if (HasNul(v))
            {
                errors[name] = [NulMessage];
            }

            if (v is null || v is string)
            {
                continue;
            }

            if (v is IEnumerable items)
            {
                var i = 0;
                foreach (var item in items)
                {
                    if (HasNul(item))
                    {
                        errors[$"{name}[{i}]"] = [NulMessage];
                    }

                    if (item is not null && IsValidatable(item.GetType()))
                    {
                        Validate(item, $"{name}[{i}].", errors, depth + 1);
                    }
                    else if (item is null && IsValidatable(ElementType(field.Property.PropertyType)))
                    {
                        errors[$"{name}[{i}]"] = ["must not be null."];
                    }

                    if (errors.Count >= 20)
                    {
                        return; // a huge array of bad entries gets a bounded answer
                    }

                    i++;
                }
            }
            else if (IsValidatable(v.GetType()))
            {
                Validate(v, name + ".", errors, depth + 1);
            }
        }
    }

    // PostgreSQL text cannot hold U+0000; no field of ours has a use for it, so it is refused on both stores alike.
    private const string NulMessage = "must not contain the NUL character (U+0000).";

    private static bool HasNul(object? value) => value is string s && s.Contains('\0', StringComparison.Ordinal);

    private static void Check(object? value, string name, ValidationAttribute[] attributes, Dictionary<string, string[]> errors)
    {
        if (HasNul(value))
        {
            errors[name] = [NulMessage];
        }

        foreach (var a in attributes)
        {
            bool valid;
            try
            {
                // [Required] means present (not null) here; blank strings are the services' to judge, with their own messages.
                valid = a is RequiredAttribute ? value is not null : a.IsValid(value);
            }
            catch (Exception e) when (e is OverflowException or InvalidCastException or FormatException or ArgumentException)
            {
                valid = false; // e.g. a long beyond an int-typed [Range]: out of range, not a bug to answer with 500
            }
            if (!valid)
            {
                errors[name] = [Message(a)];
                return;
            }
        }
    }

    private static string Message(ValidationAttribute a) => a.ErrorMessage ?? a switch
    {
        RequiredAttribute => "is required.",
        RangeAttribute { Maximum: double max } r when max >= long.MaxValue => string.Create(CultureInfo.InvariantCulture, $"must be at least {r.Minimum}."),
        RangeAttribute r => string.Create(CultureInfo.InvariantCulture, $"must be between {r.Minimum} and {r.Maximum}."),
        StringLengthAttribute s when s.MinimumLength > 0 => $"must be {s.MinimumLength} to {s.MaximumLength} characters.",
        StringLengthAttribute s => $"must be at most {s.MaximumLength} characters.",
        MaxLengthAttribute m => $"must have at most {m.Length} characters or entries.",
        MinLengthAttribute m => $"must have at least {m.Length} characters or entries.",
        ItemLengthAttribute i => i.FormatErrorMessage(""),
        _ => "is invalid.",
    };

    private static Field[] FieldsOf(Type type) => Fields.GetOrAdd(type, t => t
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.GetIndexParameters().Length == 0 && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
        .Select(p => new Field(p, JsonName(p), p.GetCustomAttributes<ValidationAttribute>(inherit: true).ToArray()))
        .ToArray());

    private static string JsonName(PropertyInfo p) =>
        p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(p.Name);

    /// <summary>Request records of our own assemblies that carry bounds (services and framework types have none).</summary>
    private static bool IsValidatable(Type? type)
    {
        if (type is null || type == typeof(string) || !type.IsClass || type.Namespace?.StartsWith("Authio.", StringComparison.Ordinal) != true)
        {
            return false;
        }

        return FieldsOf(type).Any(f => f.Attributes.Length > 0 || IsValidatable(ElementType(f.Property.PropertyType)));
    }

    private static Type? ElementType(Type type) =>
        type == typeof(string) ? null
        : type.IsArray ? type.GetElementType()
        : type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments()[0]
        : null;
}
