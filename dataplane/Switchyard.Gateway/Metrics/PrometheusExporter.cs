using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Switchyard.Gateway.Metrics;

/// <summary>
/// Prometheus text exposition (format 0.0.4) of <see cref="System.Diagnostics.Metrics"/> instruments, written by hand
/// because prometheus-net cannot be restored here. It listens to meters whose name starts with a prefix and keeps one
/// aggregate per instrument and label set: counters and up-down counters sum, histograms bucket, and observable
/// instruments are read at scrape time.
/// </summary>
/// <remarks>Instrument names are used as metric names as they are, so instruments are named the Prometheus way.</remarks>
public sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Series> _series = new();

    /// <summary>Starts listening to every meter named <paramref name="meterPrefix"/>*.</summary>
    public PrometheusExporter(string meterPrefix = "Switchyard")
        : this(meter => meter.Name.StartsWith(meterPrefix, StringComparison.Ordinal))
    {
    }

    /// <summary>
    /// Starts listening to the meters <paramref name="include"/> selects. Meters are process-wide, so a process hosting
    /// several gateways (tests do) passes the one <see cref="Meter"/> instance it exports.
    /// </summary>
    public PrometheusExporter(Func<Meter, bool> include)
    {
        ArgumentNullException.ThrowIfNull(include);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (include(instrument.Meter))
            {
                _series[instrument] = new Series(instrument);
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.MeasurementsCompleted = (instrument, state) => _series.TryRemove(instrument, out _);
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    /// <summary>The content type of <see cref="Scrape"/>'s output.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Reads observable instruments and renders every series.</summary>
    public string Scrape()
    {
        // Observable instruments report only now; their last values replace the previous scrape's.
        foreach (var series in _series.Values)
        {
            if (series.IsObservable)
            {
                series.ResetForObservation();
            }
        }

        _listener.RecordObservableInstruments();
        var text = new StringBuilder(4096);
        foreach (var group in _series.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            group.Render(text);
        }

        return text.ToString();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_series.TryGetValue(instrument, out var series))
        {
            series.Record(value, tags);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    /// <summary>Default histogram buckets (seconds): 50 µs to 10 s, for delivery latency on loopback and beyond.</summary>
    internal static readonly double[] DefaultBuckets =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private sealed class Series
    {
        private readonly Instrument _instrument;
        private readonly ConcurrentDictionary<string, Cell> _cells = new(StringComparer.Ordinal);
        private readonly string _type;

        public Series(Instrument instrument)
        {
            _instrument = instrument;
            Name = instrument.Name;
            var definition = instrument.GetType().GetGenericTypeDefinition();
            IsObservable = instrument.IsObservable;
            _type = definition == typeof(Histogram<>) ? "histogram"
                : definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>) ? "counter"
                : "gauge";
        }

        public string Name { get; }

        public bool IsObservable { get; }

        private bool IsHistogram => _type == "histogram";

        public void ResetForObservation() => _cells.Clear();

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = Labels(tags);
            var cell = _cells.GetOrAdd(labels, _ => new Cell(IsHistogram ? DefaultBuckets.Length : 0));
            lock (cell)
            {
                if (IsHistogram)
                {
                    cell.Count++;
                    cell.Sum += value;
                    for (var i = 0; i < DefaultBuckets.Length; i++)
                    {
                        if (value <= DefaultBuckets[i])
                        {
                            cell.Buckets[i]++;
                        }
                    }
                }
                else if (IsObservable)
                {
                    // Observable instruments report totals or current values, never increments.
                    cell.Sum = value;
                }
                else
                {
                    cell.Sum += value;
                }
            }
        }

        public void Render(StringBuilder text)
        {
            if (_cells.IsEmpty && IsObservable)
            {
                return;
            }

            text.Append("# HELP ").Append(Name).Append(' ').Append(Escape(_instrument.Description ?? Name, help: true)).Append('\n');
            text.Append("# TYPE ").Append(Name).Append(' ').Append(_type).Append('\n');
            if (_cells.IsEmpty)
            {
                // A counter nobody has touched yet is still worth showing as zero: absent and zero read differently.
                if (!IsHistogram)
                {
                    text.Append(Name).Append(" 0\n");
                }

                return;
            }

            foreach (var (labels, cell) in _cells.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                lock (cell)
                {
                    if (!IsHistogram)
                    {
                        text.Append(Name).Append(Braces(labels)).Append(' ').Append(Format(cell.Sum)).Append('\n');
                        continue;
                    }

                    for (var i = 0; i < DefaultBuckets.Length; i++)
                    {
                        text.Append(Name).Append("_bucket").Append(Braces(Join(labels, $"le=\"{Format(DefaultBuckets[i])}\"")))
                            .Append(' ').Append(cell.Buckets[i]).Append('\n');
                    }

                    text.Append(Name).Append("_bucket").Append(Braces(Join(labels, "le=\"+Inf\""))).Append(' ').Append(cell.Count).Append('\n');
                    text.Append(Name).Append("_sum").Append(Braces(labels)).Append(' ').Append(Format(cell.Sum)).Append('\n');
                    text.Append(Name).Append("_count").Append(Braces(labels)).Append(' ').Append(cell.Count).Append('\n');
                }
            }
        }

        private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 0)
            {
                return string.Empty;
            }

            var sorted = tags.ToArray();
            Array.Sort(sorted, (a, b) => string.CompareOrdinal(a.Key, b.Key));
            return string.Join(",", sorted.Select(t => $"{t.Key}=\"{Escape(Convert.ToString(t.Value, CultureInfo.InvariantCulture) ?? string.Empty, help: false)}\""));
        }

        private static string Join(string labels, string extra) => labels.Length == 0 ? extra : $"{labels},{extra}";

        private static string Braces(string labels) => labels.Length == 0 ? string.Empty : $"{{{labels}}}";

        private static string Format(double value) =>
            double.IsPositiveInfinity(value) ? "+Inf" : value.ToString("R", CultureInfo.InvariantCulture);

        private static string Escape(string value, bool help) =>
            help ? value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)
                 : value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
    }

    private sealed class Cell
    {
        public Cell(int buckets) => Buckets = new long[buckets];

        public double Sum;
        public long Count;
        public readonly long[] Buckets;
    }
}
