using System.Globalization;
using Authio.Shared.Configuration;

namespace Authio.Shared.Tracing;

/// <summary>
/// Whether a service traces, from the standard OpenTelemetry variables (environment variables reach configuration under
/// the same names). Off by default; on when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>
/// is set, or <c>OTEL_TRACES_EXPORTER=otlp</c>; <c>OTEL_TRACES_EXPORTER=none</c> or <c>OTEL_SDK_DISABLED=true</c> keeps it off.
/// The sampler variables are checked here so a typo stops start-up instead of silently sampling everything.
/// </summary>
public static class TracingSwitch
{
    private static readonly string[] Samplers =
        ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"];

    public static bool IsEnabled(Func<string, string?> setting)
    {
        if (string.Equals(setting("OTEL_SDK_DISABLED")?.Trim(), "true", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var exporter = setting("OTEL_TRACES_EXPORTER")?.Trim();
        bool enabled;
        if (!string.IsNullOrEmpty(exporter))
        {
            enabled = exporter.ToLowerInvariant() switch
            {
                "none" => false,
                "otlp" => true,
                _ => throw new ConfigurationException("OTEL_TRACES_EXPORTER", "must be otlp or none (only OTLP export is built in)"),
            };
        }
        else
        {
            enabled = !string.IsNullOrWhiteSpace(setting("OTEL_EXPORTER_OTLP_ENDPOINT"))
                || !string.IsNullOrWhiteSpace(setting("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
        }
        if (enabled)
        {
            ValidateSampler(setting);
        }
        return enabled;
    }

    private static void ValidateSampler(Func<string, string?> setting)
    {
        var sampler = setting("OTEL_TRACES_SAMPLER")?.Trim();
        if (!string.IsNullOrEmpty(sampler) && !Samplers.Contains(sampler, StringComparer.OrdinalIgnoreCase))
        {
            throw new ConfigurationException("OTEL_TRACES_SAMPLER", "must be one of " + string.Join(", ", Samplers));
        }
        var argument = setting("OTEL_TRACES_SAMPLER_ARG")?.Trim();
        if (!string.IsNullOrEmpty(argument) && sampler?.EndsWith("traceidratio", StringComparison.OrdinalIgnoreCase) == true
            && (!double.TryParse(argument, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) || ratio is < 0 or > 1))
        {
            throw new ConfigurationException("OTEL_TRACES_SAMPLER_ARG", "must be a ratio between 0 and 1");
        }
    }
}
