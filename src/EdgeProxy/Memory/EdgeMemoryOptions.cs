using System.Globalization;

namespace Authio.EdgeProxy.Memory;

/// <summary>The <c>Edge:Memory</c> section: how much memory the edge's caches and tables may hold together.</summary>
internal sealed class EdgeMemoryOptions
{
    /// <summary>Share of the memory the runtime sees (container limit, or GC heap hard limit) the default budget takes.</summary>
    public const double DefaultShare = 0.5;

    /// <summary>The smallest budget accepted: below it the caches would be too small to be worth having.</summary>
    public const long MinimumBytes = 16L << 20;

    /// <summary>
    /// The caches' memory budget: bytes (<c>134217728</c>), with a unit (<c>128MiB</c>, <c>1GiB</c>, <c>512KiB</c>; also
    /// <c>MB</c>/<c>GB</c> as binary units) or a share of the memory the runtime sees (<c>40%</c>). Default: 50 % of
    /// <c>GC.GetGCMemoryInfo().TotalAvailableMemoryBytes</c> (the container limit, or <c>GCHeapHardLimit</c> when set).
    /// Range 16 MiB – the memory the runtime sees; shares 1–90 %.
    /// </summary>
    public string? Budget { get; set; }

    /// <summary>
    /// Shed cold cache entries when the GC's memory load reaches this share of its high-memory threshold. Default 0.9,
    /// range 0.5–1.0.
    /// </summary>
    public double PressureThreshold { get; set; } = 0.9;

    /// <summary>How often the memory load is looked at. Default 1 s, range 100 ms – 1 min.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Parses <see cref="Budget"/> against <paramref name="available"/> bytes; false with a reason when it is unusable.</summary>
    public bool TryResolveBudget(long available, out long bytes, out string? error)
    {
        error = null;
        bytes = (long)(available * DefaultShare);
        var text = Budget?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }
        if (text.EndsWith('%'))
        {
            if (!double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) || percent is < 1 or > 90)
            {
                error = $"'{Budget}' is not a share between 1% and 90%.";
                return false;
            }
            bytes = (long)(available * percent / 100);
        }
        else
        {
            var digits = text.TakeWhile(c => char.IsDigit(c) || c == '.').Count();
            var unit = text[digits..].Trim().ToUpperInvariant();
            long multiplier = unit switch
            {
                "" or "B" => 1,
                "KIB" or "KB" or "K" => 1L << 10,
                "MIB" or "MB" or "M" => 1L << 20,
                "GIB" or "GB" or "G" => 1L << 30,
                _ => 0,
            };
            if (multiplier == 0 || !double.TryParse(text[..digits], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
            {
                error = $"'{Budget}' is not a size (e.g. 134217728, 128MiB, 1GiB) or a share (e.g. 40%).";
                return false;
            }
            bytes = (long)(amount * multiplier);
        }
        if (bytes < MinimumBytes)
        {
            error = $"'{Budget}' is below the minimum of {MinimumBytes >> 20} MiB.";
            return false;
        }
        if (bytes > available)
        {
            error = $"'{Budget}' is more than the {available >> 20} MiB of memory the runtime sees (container limit or GC heap hard limit).";
            return false;
        }
        return true;
    }
}
