using System.Diagnostics.Metrics;
using Switchyard.Delivery;
using Switchyard.Transport;

namespace Switchyard.Gateway.Metrics;

/// <summary>
/// The data plane's instruments (DESIGN.md, "Metrics"), named as Prometheus expects them. Delivery reports through
/// <see cref="IDeliveryObserver"/>; QUIC statistics are read from live connections at scrape time.
/// </summary>
public sealed class GatewayMetrics : IDeliveryObserver, IDisposable
{
    /// <summary>The meter name; <see cref="PrometheusExporter"/> listens to it.</summary>
    public const string MeterName = "Switchyard.Gateway";

    private readonly Meter _meter;
    private readonly UpDownCounter<long> _sessions;
    private readonly UpDownCounter<long> _streams;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _messageBytes;
    private readonly Counter<long> _fragmented;
    private readonly UpDownCounter<long> _bufferBytes;
    private readonly Counter<long> _overflows;
    private readonly Histogram<double> _deliveryDuration;
    private readonly Func<IEnumerable<IQuicConnection>> _connections;
    private long _maxStreams;
    private long _activeStreams;

    /// <summary>Creates the instruments.</summary>
    /// <param name="connections">The live QUIC connections, read at scrape time for <c>switchyard_quic_*</c>.</param>
    /// <param name="datagramsDropped">Datagrams shed because too many were in flight, read at scrape time.</param>
    public GatewayMetrics(Func<IEnumerable<IQuicConnection>>? connections = null, Func<long>? datagramsDropped = null)
    {
        _connections = connections ?? (() => []);
        _meter = new Meter(MeterName);
        _sessions = _meter.CreateUpDownCounter<long>("switchyard_wt_sessions_active", description: "WebTransport sessions open now.");
        _streams = _meter.CreateUpDownCounter<long>("switchyard_wt_streams_active", description: "WebTransport streams being read now.");
        _meter.CreateObservableGauge("switchyard_wt_streams_max", () => Interlocked.Read(ref _maxStreams), description: "Most WebTransport streams open at once since start.");
        _messages = _meter.CreateCounter<long>("switchyard_wt_messages_total", description: "Track messages by track_type and outcome (delivered, failed, unrouted, malformed).");
        _messageBytes = _meter.CreateCounter<long>("switchyard_wt_message_bytes_total", description: "Payload bytes of delivered track messages.");
        _fragmented = _meter.CreateCounter<long>("switchyard_wt_fragmented_messages_total", description: "Messages that arrived split over more than one stream read.");
        _bufferBytes = _meter.CreateUpDownCounter<long>("switchyard_wt_stream_buffer_bytes", description: "Payload bytes read from streams and waiting for delivery.");
        _overflows = _meter.CreateCounter<long>("switchyard_wt_buffer_overflows_total", description: "Times a stream reached its in-flight bound and stopped being read.");
        var dropped = datagramsDropped ?? (() => 0);
        _meter.CreateObservableCounter("switchyard_wt_datagrams_dropped_total", () => dropped(), description: "Track datagrams dropped undelivered because the gateway-wide in-flight bound was reached (also counted failed).");
        _deliveryDuration = _meter.CreateHistogram<double>("switchyard_delivery_duration_seconds", unit: "s", description: "Time to deliver a message to its backend, retries included.");
        _meter.CreateObservableGauge("switchyard_quic_connections_active", () => _connections().Count(), description: "QUIC connections open now.");
        _meter.CreateObservableGauge("switchyard_quic_rtt_seconds", () => Each(s => s.SmoothedRtt.TotalSeconds), description: "Smoothed RTT per connection (RFC 9002 §5.3).");
        _meter.CreateObservableGauge("switchyard_quic_cwnd_bytes", () => Each(s => (double)s.CongestionWindow), description: "Congestion window per connection.");
        _meter.CreateObservableCounter("switchyard_quic_packets_sent_total", () => Sum(s => s.PacketsSent), description: "Packets sent on open connections.");
        _meter.CreateObservableCounter("switchyard_quic_packets_received_total", () => Sum(s => s.PacketsReceived), description: "Packets received on open connections.");
        _meter.CreateObservableCounter("switchyard_quic_packets_lost_total", () => Sum(s => s.PacketsLost), description: "Packets declared lost on open connections.");
    }

    /// <summary>The meter holding this instance's instruments; export exactly it.</summary>
    public Meter Meter => _meter;

    /// <summary>A session opened (+1) or closed (-1).</summary>
    public void SessionChanged(int delta) => _sessions.Add(delta);

    /// <summary>A stream started (+1) or ended (-1).</summary>
    public void StreamChanged(int delta)
    {
        _streams.Add(delta);
        var now = Interlocked.Add(ref _activeStreams, delta);
        long max;
        while (now > (max = Interlocked.Read(ref _maxStreams)) && Interlocked.CompareExchange(ref _maxStreams, now, max) != max)
        {
        }
    }

    /// <inheritdoc />
    public void OnMessage(string trackType, DeliveryOutcome outcome, long payloadBytes, TimeSpan duration)
    {
        var outcomeLabel = StreamErrorCodes.Label(outcome);
        _messages.Add(1, new KeyValuePair<string, object?>("track_type", trackType), new KeyValuePair<string, object?>("outcome", outcomeLabel));
        if (outcome == DeliveryOutcome.Delivered)
        {
            _messageBytes.Add(payloadBytes, new KeyValuePair<string, object?>("track_type", trackType));
            _deliveryDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("track_type", trackType));
        }
    }

    /// <inheritdoc />
    public void OnFragmentedMessage() => _fragmented.Add(1);

    /// <inheritdoc />
    public void OnBufferedBytesChanged(long delta) => _bufferBytes.Add(delta);

    /// <inheritdoc />
    public void OnBufferFull() => _overflows.Add(1);

    private IEnumerable<Measurement<double>> Each(Func<QuicConnectionStatistics, double> pick)
    {
        foreach (var connection in _connections())
        {
            yield return new Measurement<double>(pick(connection.GetStatistics()),
                new KeyValuePair<string, object?>("remote", connection.RemoteEndPoint.ToString()));
        }
    }

    private long Sum(Func<QuicConnectionStatistics, long> pick) => _connections().Sum(c => pick(c.GetStatistics()));

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
