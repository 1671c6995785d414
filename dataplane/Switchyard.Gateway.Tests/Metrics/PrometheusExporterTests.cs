using System.Diagnostics.Metrics;
using Switchyard.Delivery;
using Switchyard.Gateway.Metrics;

namespace Switchyard.Gateway.Tests.Metrics;

public class PrometheusExporterTests
{
    [Fact]
    public void DeliveryOutcomes_AreExposedWithTheirLabels()
    {
        using var metrics = new GatewayMetrics();
        using var exporter = new PrometheusExporter(m => ReferenceEquals(m, metrics.Meter));

        metrics.OnMessage("video", DeliveryOutcome.Delivered, 9000, TimeSpan.FromMilliseconds(0.3));
        metrics.OnMessage("video", DeliveryOutcome.Delivered, 1000, TimeSpan.FromMilliseconds(7));
        metrics.OnMessage("audio", DeliveryOutcome.BackendUnavailable, 4096, TimeSpan.FromSeconds(1));
        metrics.OnMessage("malformed", DeliveryOutcome.MalformedHeader, 0, TimeSpan.Zero);
        metrics.SessionChanged(+1);
        metrics.StreamChanged(+1);
        metrics.StreamChanged(+1);
        metrics.StreamChanged(-1);
        metrics.OnBufferedBytesChanged(500);
        metrics.OnBufferFull();
        metrics.OnFragmentedMessage();

        var lines = exporter.Scrape().Split('\n');

        Assert.Contains("# TYPE switchyard_wt_messages_total counter", lines);
        Assert.Contains("switchyard_wt_messages_total{outcome=\"delivered\",track_type=\"video\"} 2", lines);
        Assert.Contains("switchyard_wt_messages_total{outcome=\"failed\",track_type=\"audio\"} 1", lines);
        Assert.Contains("switchyard_wt_messages_total{outcome=\"malformed\",track_type=\"malformed\"} 1", lines);
        Assert.Contains("switchyard_wt_message_bytes_total{track_type=\"video\"} 10000", lines);
        Assert.Contains("switchyard_wt_sessions_active 1", lines);
        Assert.Contains("switchyard_wt_streams_active 1", lines);
        Assert.Contains("switchyard_wt_streams_max 2", lines);
        Assert.Contains("switchyard_wt_stream_buffer_bytes 500", lines);
        Assert.Contains("switchyard_wt_buffer_overflows_total 1", lines);
        Assert.Contains("switchyard_wt_fragmented_messages_total 1", lines);
        Assert.Contains("# TYPE switchyard_delivery_duration_seconds histogram", lines);
        Assert.Contains("switchyard_delivery_duration_seconds_bucket{track_type=\"video\",le=\"0.0005\"} 1", lines);
        Assert.Contains("switchyard_delivery_duration_seconds_bucket{track_type=\"video\",le=\"0.01\"} 2", lines);
        Assert.Contains("switchyard_delivery_duration_seconds_bucket{track_type=\"video\",le=\"+Inf\"} 2", lines);
        Assert.Contains("switchyard_delivery_duration_seconds_count{track_type=\"video\"} 2", lines);
    }

    [Fact]
    public void TwoGatewaysInOneProcess_ExportOnlyTheirOwnMeter()
    {
        using var mine = new GatewayMetrics();
        using var other = new GatewayMetrics();
        using var exporter = new PrometheusExporter(m => ReferenceEquals(m, mine.Meter));

        mine.OnMessage("chat", DeliveryOutcome.Delivered, 10, TimeSpan.Zero);
        other.OnMessage("chat", DeliveryOutcome.Delivered, 10, TimeSpan.Zero);

        Assert.Contains("switchyard_wt_messages_total{outcome=\"delivered\",track_type=\"chat\"} 1", exporter.Scrape().Split('\n'));
    }

    [Fact]
    public void LabelValues_AreEscaped()
    {
        using var meter = new Meter("Switchyard.Test.Escape");
        using var exporter = new PrometheusExporter("Switchyard.Test.Escape");
        meter.CreateCounter<long>("escape_total").Add(3, new KeyValuePair<string, object?>("v", "a\"b\\c\nd"));

        Assert.Contains("escape_total{v=\"a\\\"b\\\\c\\nd\"} 3", exporter.Scrape().Split('\n'));
    }

    [Fact]
    public void ObservableGauges_ReportCurrentValuesEachScrape()
    {
        using var meter = new Meter("Switchyard.Test.Observe");
        using var exporter = new PrometheusExporter("Switchyard.Test.Observe");
        var value = 5;
        meter.CreateObservableGauge("queue_depth", () => value);

        Assert.Contains("queue_depth 5", exporter.Scrape().Split('\n'));
        value = 2;
        Assert.Contains("queue_depth 2", exporter.Scrape().Split('\n'));
    }
}
