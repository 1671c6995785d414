using Switchyard.Delivery;
using Switchyard.Gateway.Metrics;

namespace Switchyard.Gateway.Tests.Metrics;

public class SettledMessagesTests
{
    [Fact]
    public void StreamRequestSettlingManyMessages_CountsEachMessageAndEveryByteOnce()
    {
        using var metrics = new GatewayMetrics();
        using var exporter = new PrometheusExporter(m => ReferenceEquals(m, metrics.Meter));
        IDeliveryObserver observer = metrics;

        observer.OnMessages("video", DeliveryOutcome.Delivered, 3, 12_345, TimeSpan.FromMilliseconds(2));
        observer.OnMessages("video", DeliveryOutcome.BackendUnavailable, 2, 500, TimeSpan.Zero);
        observer.OnMessages("video", DeliveryOutcome.Delivered, 0, 0, TimeSpan.Zero);

        var lines = exporter.Scrape().Split('\n');
        Assert.Contains("switchyard_wt_messages_total{outcome=\"delivered\",track_type=\"video\"} 3", lines);
        Assert.Contains("switchyard_wt_messages_total{outcome=\"failed\",track_type=\"video\"} 2", lines);
        Assert.Contains("switchyard_wt_message_bytes_total{track_type=\"video\"} 12345", lines);
    }
}
