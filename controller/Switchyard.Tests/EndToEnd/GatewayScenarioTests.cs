using Switchyard.Delivery;

using Xunit.Abstractions;

namespace Switchyard.Tests.EndToEnd;

/// <summary>
/// The data plane's promises over real UDP and QUIC, with our own WebTransport client: a bad stream is stopped alone,
/// a dead backend is reported with its code, and reloads never drop a session.
/// </summary>
public sealed class GatewayScenarioTests(ITestOutputHelper output)
{
    private static readonly byte[] Chat = "{\"message_id\":\"m\",\"timestamp\":1,\"user\":\"u\",\"message\":\"hi\",\"type\":\"chat\"}"u8.ToArray();

    [Fact]
    public async Task MalformedHeader_ResetsOnlyThatStream_OthersKeepFlowing()
    {
        await using var quickstart = await QuickstartHarness.StartAsync(output);
        await using var client = await TrackClient.ConnectAsync(quickstart);
        var chat = await client.OpenAsync();
        var audio = await client.OpenAsync();
        await chat.SendAsync("live_chat", "chat", Chat);
        await audio.SendAsync("live_audio", "audio", new byte[4096]);

        // A header whose track_type holds a control byte.
        var bad = Switchyard.Tracks.Framing.TrackFraming.EncodeMessage("live_audio", "audio", new byte[16]);
        bad[21] = 0x01;
        await audio.SendRawAsync(bad);
        Assert.Equal(StreamErrorCodes.MalformedHeader, await audio.WaitForStopAsync(TimeSpan.FromSeconds(10), "live_audio", "audio"));

        // The session and its chat stream are unaffected.
        for (var i = 0; i < 20; i++)
        {
            await chat.SendAsync("live_chat", "chat", Chat);
        }

        chat.Finish();
        await Eventually(async () => (await QuickstartHarness.StatsAsync(quickstart.Chat)).GetValueOrDefault("live_chat").Messages == 21);
        Assert.Equal((1L, 4096L), (await QuickstartHarness.StatsAsync(quickstart.Audio))["live_audio"]);
        Assert.Equal(1, await quickstart.MetricAsync("switchyard_wt_messages_total{outcome=\"malformed\",track_type=\"malformed\"}"));
    }

    [Fact]
    public async Task AllowedOrigins_RefuseOtherOriginsWith403_AcceptListedOnes()
    {
        await using var quickstart = await QuickstartHarness.StartAsync(output, ["https://app.example.com"]);

        // A page from another origin cannot open a session (the browser sends Origin; the gateway answers 403).
        var refused = await Assert.ThrowsAsync<Switchyard.WebTransport.Sessions.WebTransportSessionException>(
            () => TrackClient.ConnectAsync(quickstart, origin: "https://evil.example.net"));
        Assert.Equal(403, refused.StatusCode);

        // The listed origin (compared ignoring case, as origins are) gets a session whose tracks are delivered.
        await using var client = await TrackClient.ConnectAsync(quickstart, origin: "https://APP.example.com");
        var chat = await client.OpenAsync();
        await chat.SendAsync("origin_chat", "chat", Chat);
        chat.Finish();
        await Eventually(async () => (await QuickstartHarness.StatsAsync(quickstart.Chat)).GetValueOrDefault("origin_chat").Messages == 1);
    }

    [Fact]
    public async Task BackendDeath_GivesBackendUnavailable_OtherTracksUnaffected()
    {
        await using var quickstart = await QuickstartHarness.StartAsync(output);
        await using var client = await TrackClient.ConnectAsync(quickstart);
        var audio = await client.OpenAsync();
        var video = await client.OpenAsync();
        for (var i = 0; i < 5; i++)
        {
            await audio.SendAsync("live_audio", "audio", new byte[4096]);
            await video.SendAsync("live_video", "video", new byte[8000]);
        }

        await Eventually(async () => (await QuickstartHarness.StatsAsync(quickstart.Audio)).GetValueOrDefault("live_audio").Messages == 5);
        await quickstart.Audio.DisposeAsync();

        // The next audio message cannot be delivered: after the bounded retries the stream is stopped with 0x13.
        await audio.SendAsync("live_audio", "audio", new byte[4096]);
        Assert.Equal(StreamErrorCodes.BackendUnavailable, await audio.WaitForStopAsync(TimeSpan.FromSeconds(30), "live_audio", "audio"));

        for (var i = 0; i < 5; i++)
        {
            await video.SendAsync("live_video", "video", new byte[8000]);
        }

        video.Finish();
        await Eventually(async () => (await QuickstartHarness.StatsAsync(quickstart.Video)).GetValueOrDefault("live_video").Messages == 10);

        // Nothing is counted delivered that the backend did not take.
        Assert.Equal(5, await quickstart.MetricAsync("switchyard_wt_messages_total{outcome=\"delivered\",track_type=\"audio\"}"));
        Assert.True(await quickstart.MetricAsync("switchyard_wt_messages_total{outcome=\"failed\",track_type=\"audio\"}") >= 1);
    }

    [Fact]
    public async Task HotReload_MovesNewChatStreams_SessionSurvives20Reloads()
    {
        await using var quickstart = await QuickstartHarness.StartAsync(output);
        await using var second = await Processors.ProcessorHost.StartAsync(Processors.ProcessorKind.Chat, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        await using var client = await TrackClient.ConnectAsync(quickstart);
        var video = await client.OpenAsync();
        var applied = 0;
        quickstart.Gateway.ConfigurationProcessed += ok =>
        {
            if (ok)
            {
                Interlocked.Increment(ref applied);
            }
        };

        var backends = Path.Combine(quickstart.ManifestDirectory, "backends.yaml");
        var original = await File.ReadAllTextAsync(backends);
        var moved = original.Replace($"port: {quickstart.Chat.Port}", $"port: {second.Port}", StringComparison.Ordinal);
        Assert.NotEqual(original, moved);
        for (var reload = 1; reload <= 20; reload++)
        {
            // Written the way editors and ConfigMap mounts do it: whole, then renamed into place.
            var staged = Path.Combine(Path.GetTempPath(), $"switchyard-backends-{Guid.NewGuid():N}.tmp");
            await File.WriteAllTextAsync(staged, reload % 2 == 1 ? moved : original);
            File.Move(staged, backends, overwrite: true);
            var expectedPort = reload % 2 == 1 ? second.Port : quickstart.Chat.Port;

            // Wait for this reload's content itself, not a count of reloads: one rename can raise several watcher events.
            await Eventually(() => Task.FromResult(ChatRoutesTo(quickstart, expectedPort)));
            await video.SendAsync("live_video", "video", new byte[1000]);

            // A new chat stream after each reload goes where the configuration now points.
            var chat = await client.OpenAsync();
            await chat.SendAsync($"chat-{reload}", "chat", Chat);
            chat.Finish();
            var expected = reload % 2 == 1 ? second : quickstart.Chat;
            await Eventually(async () => (await QuickstartHarness.StatsAsync(expected)).ContainsKey($"chat-{reload}"));
        }

        video.Finish();
        await Eventually(async () => (await QuickstartHarness.StatsAsync(quickstart.Video)).GetValueOrDefault("live_video").Messages == 20);
        Assert.False(client.Session.IsClosed);
        Assert.True(Volatile.Read(ref applied) >= 20, $"only {applied} configurations applied");
        Assert.Equal(10, (await QuickstartHarness.StatsAsync(second)).Count);
        Assert.Equal(10, (await QuickstartHarness.StatsAsync(quickstart.Chat)).Count);
    }

    private static bool ChatRoutesTo(QuickstartHarness quickstart, int port) =>
        quickstart.Gateway.Gateway.Router.Current.MatchSession("127.0.0.1", "/wt")?.Match("chat"u8, "x"u8) is { } rule &&
        rule.Rule.Backends.Any(b => b.Endpoints.Any(e => e.Port == port));

    private static async Task Eventually(Func<Task<bool>> condition, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(100);
        }
    }
}
