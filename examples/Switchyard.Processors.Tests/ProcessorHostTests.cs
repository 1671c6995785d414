using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Switchyard.Processors.Tests.Payloads;

namespace Switchyard.Processors.Tests;

public sealed class ProcessorHostTests
{
    [Fact]
    public async Task StartOnPortZero_ReportsTheBoundPortAndAnswersHealthz()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Audio);

        Assert.NotEqual(0, client.Host.Port);
        Assert.Equal(IPAddress.Loopback, client.Host.EndPoint.Address);
        Assert.Equal($"http://127.0.0.1:{client.Host.Port}/", client.Host.BaseAddress.ToString());
        var health = await client.GetJsonAsync("/healthz");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal("audio", health.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task VideoFrames_AreCountedWithPayloadBytesAndReportTheirSize()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Video);
        var frame = TestPayloads.Jpeg(640, 480);
        var progressive = TestPayloads.Jpeg(1280, 720, sof: 0xC2);

        var (status, body) = await client.PostAsync(frame, "live_video", "video", sequence: 1);
        var (status2, body2) = await client.PostAsync(progressive, "live_video", "video", sequence: 2);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ok", body.GetProperty("status").GetString());
        Assert.Equal("live_video", body.GetProperty("track_id").GetString());
        Assert.Equal(frame.Length, body.GetProperty("bytes").GetInt32());
        Assert.True(body.GetProperty("jpeg").GetBoolean());
        Assert.True(body.GetProperty("complete").GetBoolean());
        Assert.Equal(640, body.GetProperty("width").GetInt32());
        Assert.Equal(480, body.GetProperty("height").GetInt32());
        Assert.Equal(HttpStatusCode.OK, status2);
        Assert.Equal(1280, body2.GetProperty("width").GetInt32());
        Assert.Equal(720, body2.GetProperty("height").GetInt32());
        Assert.Equal((2L, (long)(frame.Length + progressive.Length)), await client.TrackAsync("live_video"));
    }

    [Fact]
    public async Task TruncatedOrForeignVideo_IsAcceptedButReportedAsSuch()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Video);

        var (_, truncated) = await client.PostAsync(TestPayloads.Jpeg(320, 240, withEoi: false), "live_screen", "screen", sequence: 1);
        var (_, foreign) = await client.PostAsync("PNG-ish"u8.ToArray(), "live_screen", "screen", sequence: 2);

        Assert.True(truncated.GetProperty("jpeg").GetBoolean());
        Assert.False(truncated.GetProperty("complete").GetBoolean());
        Assert.Equal(320, truncated.GetProperty("width").GetInt32());
        Assert.False(foreign.GetProperty("jpeg").GetBoolean());
        Assert.False(foreign.TryGetProperty("width", out _));
        Assert.Equal(2L, (await client.TrackAsync("live_screen")).Messages);
    }

    [Fact]
    public async Task AudioChunk_ReportsItsRmsLevel()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Audio);
        var chunk = TestPayloads.SquareWave(4096, 16384);

        var (status, body) = await client.PostAsync(chunk, "live_audio", "audio", sequence: 1);
        var (_, silent) = await client.PostAsync(new byte[8192], "live_audio", "audio", sequence: 2);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(4096, body.GetProperty("samples").GetInt32());
        Assert.Equal(0.5, body.GetProperty("rms").GetDouble(), 6);
        Assert.Equal(-6.02, body.GetProperty("dbfs").GetDouble(), 2);
        Assert.Equal(JsonValueKind.Null, silent.GetProperty("dbfs").ValueKind);
        Assert.Equal((2L, 16384L), await client.TrackAsync("live_audio"));
    }

    [Fact]
    public async Task ChatObject_IsParsedAndCounted()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Chat);
        var chat = TestPayloads.Chat("msg-1", "alice", "héllo");

        var (status, body) = await client.PostAsync(chat, "live_chat", "chat", sequence: 1);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("msg-1", body.GetProperty("message_id").GetString());
        Assert.Equal("alice", body.GetProperty("user").GetString());
        Assert.Equal((1L, (long)chat.Length), await client.TrackAsync("live_chat"));
    }

    [Theory]
    [InlineData("{\"message_id\":\"m\",\"timestamp\":1,\"user\":\"a\",\"message\":\"hi\"")] // cut short
    [InlineData("not json at all")] // not JSON
    [InlineData("[1,2,3]")] // JSON, but not an object
    [InlineData("{\"message_id\":\"m\",\"timestamp\":1,\"user\":\"a\",\"type\":\"chat\"}")] // no message
    [InlineData("{\"message_id\":\"m\",\"timestamp\":\"yesterday\",\"user\":\"a\",\"message\":\"hi\",\"type\":\"chat\"}")] // timestamp not a number
    [InlineData("{\"message_id\":true,\"timestamp\":1,\"user\":\"a\",\"message\":\"hi\",\"type\":\"chat\"}")] // message_id neither string nor number
    [InlineData("")] // empty body
    public async Task MalformedChat_Is400AndNotCounted(string payload)
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Chat);

        var (status, body) = await client.PostAsync(Encoding.UTF8.GetBytes(payload), "live_chat", "chat", sequence: 1);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("error", body.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetString()));
        Assert.Equal((0L, 0L), await client.TrackAsync("live_chat"));

        // A refused sequence number was not marked delivered: the corrected message with the same key still counts.
        var good = TestPayloads.Chat("m", "a", "fixed");
        var (retry, _) = await client.PostAsync(good, "live_chat", "chat", sequence: 1);
        Assert.Equal(HttpStatusCode.OK, retry);
        Assert.Equal((1L, (long)good.Length), await client.TrackAsync("live_chat"));
    }

    [Fact]
    public async Task RetriedDelivery_IsAnswered200ButCountedOnce()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Audio);
        var chunk = TestPayloads.SquareWave(100, 1000);

        var (first, firstBody) = await client.PostAsync(chunk, "live_audio", "audio", session: "s1", stream: 2, sequence: 1);
        var (retry, retryBody) = await client.PostAsync(chunk, "live_audio", "audio", session: "s1", stream: 2, sequence: 1);

        Assert.Equal(HttpStatusCode.OK, first);
        Assert.False(firstBody.TryGetProperty("duplicate", out _));
        Assert.Equal(HttpStatusCode.OK, retry);
        Assert.True(retryBody.GetProperty("duplicate").GetBoolean());
        Assert.Equal((1L, 200L), await client.TrackAsync("live_audio"));
    }

    [Fact]
    public async Task SameSequenceOnAnotherStreamOrSession_IsADifferentMessage()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Audio);
        var chunk = TestPayloads.SquareWave(10, 1000);

        await client.PostAsync(chunk, "live_audio", "audio", session: "s1", stream: 2, sequence: 1);
        await client.PostAsync(chunk, "live_audio", "audio", session: "s1", stream: 6, sequence: 1);
        await client.PostAsync(chunk, "live_audio", "audio", session: "s2", stream: 2, sequence: 1);
        await client.PostAsync(chunk, "live_audio", "audio", session: "s1", stream: 2, sequence: 2);
        await client.PostAsync(chunk, "live_audio", "audio", session: "s1", stream: 6, sequence: 1);

        Assert.Equal((4L, 80L), await client.TrackAsync("live_audio"));
    }

    [Fact]
    public async Task ConcurrentRetries_AreCountedExactlyOncePerKey()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Audio);
        var chunk = TestPayloads.SquareWave(16, 100);

        // Every (stream, sequence) is sent three times at once, as a gateway with a short timeout might.
        var posts = new List<Task<(HttpStatusCode, JsonElement)>>();
        for (var stream = 0; stream < 4; stream++)
        {
            for (var sequence = 1; sequence <= 25; sequence++)
            {
                for (var copy = 0; copy < 3; copy++)
                {
                    posts.Add(client.PostAsync(chunk, "live_audio", "audio", stream: stream * 4, sequence: sequence));
                }
            }
        }

        var results = await Task.WhenAll(posts);

        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.Item1));
        Assert.Equal(200, results.Count(r => r.Item2.TryGetProperty("duplicate", out _)));
        Assert.Equal((100L, 100L * chunk.Length), await client.TrackAsync("live_audio"));
    }

    [Fact]
    public async Task RequestWithoutDeliveryHeaders_IsCountedEveryTime()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Video);
        var frame = TestPayloads.Jpeg(16, 16);

        await client.PostAsync(frame, "curl", "video");
        await client.PostAsync(frame, "curl", "video");

        Assert.Equal((2L, 2L * frame.Length), await client.TrackAsync("curl"));
    }

    [Theory]
    [InlineData("s1", null, "1")] // stream missing
    [InlineData(null, "2", "1")] // session missing
    [InlineData("s1", "2", "-1")] // negative sequence
    [InlineData("s1", "two", "1")] // not a number
    public async Task HalfNamedDelivery_Is400AndNotCounted(string? session, string? stream, string? sequence)
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Video);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/process_video") { Content = new ByteArrayContent(TestPayloads.Jpeg(8, 8)) };
        request.Headers.Add("X-Track-Id", "live_video");
        if (session is not null)
        {
            request.Headers.Add("X-Session-Id", session);
        }

        if (stream is not null)
        {
            request.Headers.Add("X-Stream-Id", stream);
        }

        if (sequence is not null)
        {
            request.Headers.Add("X-Message-Seq", sequence);
        }

        var (status, _) = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal((0L, 0L), await client.TrackAsync("live_video"));
    }

    [Fact]
    public async Task PayloadAboveTheLimit_Is413AndNotCounted()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Audio, new ProcessorHostOptions { MaxPayloadBytes = 1000 });

        var (atLimit, _) = await client.PostAsync(new byte[1000], "live_audio", "audio", sequence: 1);
        var (above, _) = await client.PostAsync(new byte[1001], "live_audio", "audio", sequence: 2);

        Assert.Equal(HttpStatusCode.OK, atLimit);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, above);
        Assert.Equal((1L, 1000L), await client.TrackAsync("live_audio"));
    }

    [Fact]
    public async Task ChunkedBodyAboveTheLimit_Is413()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Audio, new ProcessorHostOptions { MaxPayloadBytes = 1000 });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/process_audio") { Content = new StreamContent(new MemoryStream(new byte[5000])) };
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Add("X-Track-Id", "live_audio");

        var (status, _) = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal((0L, 0L), await client.TrackAsync("live_audio"));
    }

    [Theory]
    [InlineData(ProcessorKind.Video, "/process_audio")] // a video host refuses audio
    [InlineData(ProcessorKind.Audio, "/process_chat")] // an audio host refuses chat
    [InlineData(ProcessorKind.Chat, "/process_video")] // a chat host refuses video
    public async Task OtherKindsPath_Is404(ProcessorKind kind, string path)
    {
        await using var client = await ProcessorClient.StartAsync(kind);

        var (status, _) = await client.PostAsync([1, 2], "x", "x", path: path);

        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task Stats_HasExactlyTheDocumentedShape()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Chat);
        var a = TestPayloads.Chat("1", "a", "x");
        var b = TestPayloads.Chat("2", "b", "yy");
        await client.PostAsync(a, "live_chat", "chat", sequence: 1);
        await client.PostAsync(b, "room_2", "chat", sequence: 1, stream: 6);

        var stats = await client.GetJsonAsync("/stats");

        Assert.Equal(JsonValueKind.Object, stats.ValueKind);
        Assert.Equal(["tracks"], stats.EnumerateObject().Select(p => p.Name));
        var tracks = stats.GetProperty("tracks").EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        Assert.Equal(["live_chat", "room_2"], tracks.Keys.Order(StringComparer.Ordinal));
        foreach (var track in tracks.Values)
        {
            Assert.Equal(["messages", "bytes"], track.EnumerateObject().Select(p => p.Name));
            Assert.Equal(JsonValueKind.Number, track.GetProperty("messages").ValueKind);
        }

        Assert.Equal(a.Length, tracks["live_chat"].GetProperty("bytes").GetInt64());
        Assert.Equal(b.Length, tracks["room_2"].GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task EmptyStats_IsAnEmptyTracksObject()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Video);

        var stats = await client.GetJsonAsync("/stats");

        Assert.Equal("{\"tracks\":{}}", stats.GetRawText());
    }

    [Fact]
    public async Task OnMessage_SeesEveryAcceptedMessageAndAThrowingHookIsHarmless()
    {
        var seen = new List<ProcessedMessage>();
        var options = new ProcessorHostOptions
        {
            OnMessage = m =>
            {
                lock (seen)
                {
                    seen.Add(m);
                }

                throw new InvalidOperationException("display broke");
            },
        };
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Chat, options);

        var (status, _) = await client.PostAsync(TestPayloads.Chat("1", "bob", "hi"), "live_chat", "chat", sequence: 1);
        await client.PostAsync(TestPayloads.Chat("1", "bob", "hi"), "live_chat", "chat", sequence: 1);
        await client.PostAsync("{"u8.ToArray(), "live_chat", "chat", sequence: 2);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, seen.Count);
        Assert.Equal("chat bob: hi", seen[0].Summary);
        Assert.False(seen[0].Duplicate);
        Assert.True(seen[1].Duplicate);
        Assert.Equal(ProcessorKind.Chat, seen[0].Kind);
    }

    [Fact]
    public async Task Dispose_StopsListeningAndIsIdempotent()
    {
        var host = await ProcessorHost.StartAsync(ProcessorKind.Video, new IPEndPoint(IPAddress.Loopback, 0));
        var address = host.BaseAddress;

        await host.DisposeAsync();
        await host.DisposeAsync();

        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(new Uri(address, "/healthz")));
    }

    [Fact]
    public async Task BusyPort_FailsToStart()
    {
        await using var first = await ProcessorHost.StartAsync(ProcessorKind.Video, new IPEndPoint(IPAddress.Loopback, 0));

        await Assert.ThrowsAnyAsync<IOException>(() => ProcessorHost.StartAsync(ProcessorKind.Audio, first.EndPoint));
    }
}
