using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Switchyard.Benchmarks.Harness;

/// <summary>What every side-by-side benchmark writes: a JSON document with the machine it ran on, and statistics.</summary>
internal static class Report
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The machine: cores, OS, runtime and the load average when the run ended (other work skews results).</summary>
    public static Dictionary<string, object?> Machine() => new()
    {
        ["processor_count"] = Environment.ProcessorCount,
        ["os"] = RuntimeInformation.OSDescription,
        ["runtime"] = Environment.Version.ToString(),
        ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
    };

    /// <summary>Writes <c>NAME.json</c> and <c>NAME.svg</c> into <paramref name="directory"/>; returns both paths.</summary>
    public static async Task<(string Json, string Svg)> WriteAsync(string directory, string name, object document, string svg)
    {
        Directory.CreateDirectory(directory);
        var jsonPath = Path.Combine(directory, name + ".json");
        var svgPath = Path.Combine(directory, name + ".svg");
        await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(document, Indented)).ConfigureAwait(false);
        await File.WriteAllTextAsync(svgPath, svg).ConfigureAwait(false);
        return (jsonPath, svgPath);
    }

    public static string UtcNow() => DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);

    public static double Median<T>(IReadOnlyList<T> items, Func<T, double> value) => Percentile(items.Select(value).ToList(), 50);

    /// <summary>The nearest-rank percentile of <paramref name="values"/> (NaN when empty).</summary>
    public static double Percentile(IReadOnlyList<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        if (percentile == 50 && sorted.Length % 2 == 0)
        {
            return (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }

        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>A number rounded for JSON, or null when it is not one (no data).</summary>
    public static double? Round(double value, int digits = 4) =>
        double.IsNaN(value) || double.IsInfinity(value) ? null : Math.Round(value, digits);
}
