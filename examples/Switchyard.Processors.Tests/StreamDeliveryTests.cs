using System.Net;
using System.Net.Http.Headers;
using Switchyard.Processors.Tests.Payloads;
using Switchyard.Tracks.Framing;

namespace Switchyard.Processors.Tests;

/// <summary>The gateway's <c>Stream</c> delivery: one request whose body is every framed message of a stream.</summary>
public sealed class StreamDeliveryTests
{
    [Fact]
    public async Task FramedMessages_AreEachCountedUnderTheirHeadersTrackId_WhateverTheChunking()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Chat);
        var first = TestPayloads.Chat("m1", "alice", "hello");
        var second = TestPayloads.Chat("m2", "bob", "hi there");
        var third = TestPayloads.Chat("m3", "alice", "bye");
        var body = Concat(
            TrackFraming.EncodeMessage("room-1", "chat", first),
            TrackFraming.EncodeMessage("room-2", "chat", second),
            TrackFraming.EncodeMessage("room-1", "chat", third));

        // 7-byte chunks cut headers and payloads at every offset the reader must reassemble.
        var (status, answer) = await client.SendAsync(StreamRequest(client, body, chunk: 7));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, answer.GetProperty("messages").GetInt64());
        Assert.Equal(first.Length + second.Length + third.Length, answer.GetProperty("bytes").GetInt64());
        Assert.Equal((2L, (long)(first.Length + third.Length)), await client.TrackAsync("room-1"));
        Assert.Equal((1L, (long)second.Length), await client.TrackAsync("room-2"));
        Assert.Equal(1, client.Host.StreamRequests);
    }

    [Fact]
    public async Task ABodyLongerThanThePayloadLimit_IsTakenWhenEveryMessageIsWithinIt()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Audio, new ProcessorHostOptions { MaxPayloadBytes = 1000 });
        var messages = Enumerable.Range(0, 5).Select(_ => TrackFraming.EncodeMessage("live_audio", "audio", new byte[800])).ToArray();

        var (status, answer) = await client.SendAsync(StreamRequest(client, Concat(messages), chunk: 4096));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(5, answer.GetProperty("messages").GetInt64());
        Assert.Equal((5L, 4000L), await client.TrackAsync("live_audio"));
    }

    [Fact]
    public async Task AMessageAboveThePayloadLimit_Answers400_AndTheMessagesBeforeItStayCounted()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Audio, new ProcessorHostOptions { MaxPayloadBytes = 1000 });
        var body = Concat(TrackFraming.EncodeMessage("live_audio", "audio", new byte[800]), TrackFraming.EncodeMessage("live_audio", "audio", new byte[1001]));

        var (status, answer) = await client.SendAsync(StreamRequest(client, body, chunk: 4096));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("message 2:", answer.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal((1L, 800L), await client.TrackAsync("live_audio"));
    }

    [Fact]
    public async Task ABodyEndingInsideAMessage_Answers400()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Chat);
        var whole = TrackFraming.EncodeMessage("room-1", "chat", TestPayloads.Chat("m1", "alice", "hello"));
        var cut = TrackFraming.EncodeMessage("room-1", "chat", TestPayloads.Chat("m2", "alice", "lost"))[..40];

        var (status, answer) = await client.SendAsync(StreamRequest(client, Concat(whole, cut), chunk: 4096));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("message 2:", answer.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(1L, (await client.TrackAsync("room-1")).Messages);
    }

    [Fact]
    public async Task ARefusedPayload_Answers400NamingTheMessage()
    {
        await using var client = await ProcessorClient.StartAsync(ProcessorKind.Chat);
        var body = Concat(
            TrackFraming.EncodeMessage("room-1", "chat", TestPayloads.Chat("m1", "alice", "hello")),
            TrackFraming.EncodeMessage("room-1", "chat", "not json"u8));

        var (status, answer) = await client.SendAsync(StreamRequest(client, body, chunk: 4096));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("message 2 (room-1):", answer.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(1L, (await client.TrackAsync("room-1")).Messages);
    }

    private static HttpRequestMessage StreamRequest(ProcessorClient client, byte[] body, int chunk)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, client.Host.ProcessPath) { Content = new ChunkedContent(body, chunk) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.switchyard.track-stream");
        request.Headers.Add("X-Session-Id", "s1");
        request.Headers.Add("X-Stream-Id", "2");
        return request;
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>A body of unknown length (chunked, as the gateway sends it) written and flushed in small pieces.</summary>
    private sealed class ChunkedContent(byte[] body, int chunk) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < body.Length; offset += chunk)
            {
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(chunk, body.Length - offset)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
