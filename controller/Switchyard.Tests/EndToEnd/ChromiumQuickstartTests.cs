using System.Text.Json.Nodes;

using Xunit.Abstractions;

namespace Switchyard.Tests.EndToEnd;

/// <summary>
/// The product's reason to exist, end to end: a real browser streams camera, microphone and chat over one WebTransport
/// session, and every message it counted as sent reaches the right backend — no more, no less.
/// </summary>
[Trait("Category", "Chromium")]
public sealed class ChromiumQuickstartTests(ITestOutputHelper output)
{
    [Theory]
    // One POST per message, as shipped.
    [InlineData("Message")]
    // One streaming request per WebTransport stream, its body the framed messages: counted as the stream ends.
    [InlineData("Stream")]
    public async Task LiveClient_StreamsFor20Seconds_EveryMessageReachesItsBackend(string deliveryMode)
    {
        await using var quickstart = await QuickstartHarness.StartAsync(output, deliveryMode: deliveryMode);
        var quic = quickstart.Gateway.QuicEndPoint;
        var report = await Chromium.RunPageAsync(
            reportUrl => new Uri(quickstart.Gateway.PageAddress!,
                $"?autostart=1&duration=20&chatEvery=1000&report={Uri.EscapeDataString(reportUrl.ToString())}&wt={Uri.EscapeDataString($"https://127.0.0.1:{quic.Port}/wt")}"),
            TimeSpan.FromSeconds(120),
            output);

        Assert.Equal("connected", report["state"]?.GetValue<string>());
        Assert.Empty(report["errors"]?.AsArray() ?? []);
        var sent = report["tracks"]!.AsObject();

        // Give the last deliveries a moment: the page counts a message once QUIC took it, before the POST lands.
        var expectations = new (string Track, Processors.ProcessorHost Host, string Type)[]
        {
            ("live_video", quickstart.Video, "video"),
            ("live_audio", quickstart.Audio, "audio"),
            ("live_chat", quickstart.Chat, "chat"),
        };
        foreach (var (track, host, type) in expectations)
        {
            var messages = sent[track]!["messages"]!.GetValue<long>();
            var bytes = sent[track]!["bytes"]!.GetValue<long>();
            Assert.True(messages > 0, $"the page sent no {track} messages");
            var stats = await EventuallyAsync(async () => (await QuickstartHarness.StatsAsync(host)).GetValueOrDefault(track), s => s.Messages >= messages);
            Assert.Equal((messages, bytes), stats);
            Assert.Equal(messages, await quickstart.MetricAsync($"switchyard_wt_messages_total{{outcome=\"delivered\",track_type=\"{type}\"}}"));
            Assert.Equal(bytes, await quickstart.MetricAsync($"switchyard_wt_message_bytes_total{{track_type=\"{type}\"}}"));
        }

        // 20 s of 15 fps video and a chat message a second: a run that sent far less did not really stream.
        Assert.True(sent["live_video"]!["messages"]!.GetValue<long>() >= 150, "fewer than 150 video frames in 20 s");
        Assert.True(sent["live_chat"]!["messages"]!.GetValue<long>() >= 10, "fewer than 10 chat messages in 20 s");
        Assert.Equal(0, await quickstart.MetricAsync("switchyard_wt_messages_total{outcome=\"failed\",track_type=\"video\"}"));

        // The mode really was the one asked for: Stream delivery is one request per stream and track kind.
        foreach (var host in new[] { quickstart.Video, quickstart.Audio, quickstart.Chat })
        {
            Assert.Equal(deliveryMode == "Stream" ? 1 : 0, host.StreamRequests);
        }
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(200);
        }
    }
}
