using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Switchyard.Tracks.Framing;

namespace Switchyard.Tracks.Tests.Framing;

public class TrackMessageReaderTests
{
    private sealed record Sent(string TrackId, string TrackType, byte[] Payload);

    private static byte[] Encode(IEnumerable<Sent> messages) =>
        messages.SelectMany(m => TrackFraming.EncodeMessage(m.TrackId, m.TrackType, m.Payload)).ToArray();

    /// <summary>Feeds <paramref name="bytes"/> through a real pipe in the given chunk sizes, and reads messages back.</summary>
    private static async Task<List<Sent>> ReadThroughPipeAsync(byte[] bytes, IReadOnlyList<int> chunks, uint max = TrackFraming.DefaultMaxPayloadLength)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
        var writer = Task.Run(async () =>
        {
            var offset = 0;
            var i = 0;
            while (offset < bytes.Length)
            {
                var size = Math.Clamp(chunks.Count == 0 ? bytes.Length : chunks[i++ % chunks.Count], 1, bytes.Length - offset);
                await pipe.Writer.WriteAsync(bytes.AsMemory(offset, size));
                offset += size;
            }

            await pipe.Writer.CompleteAsync();
        });

        var reader = new TrackMessageReader(pipe.Reader, max);
        var received = new List<Sent>();
        try
        {
            while (await reader.MoveNextAsync())
            {
                var message = reader.Current;
                received.Add(new Sent(message.Header.GetTrackId(), message.Header.GetTrackType(), message.Payload.ToArray()));
            }
        }
        finally
        {
            await writer;
        }

        return received;
    }

    private static void AssertSame(IReadOnlyList<Sent> expected, IReadOnlyList<Sent> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].TrackId, actual[i].TrackId);
            Assert.Equal(expected[i].TrackType, actual[i].TrackType);
            Assert.Equal(expected[i].Payload, actual[i].Payload);
        }
    }

    [Fact]
    public async Task SeedExamples_RoundTrip()
    {
        var random = new Random(20261122);
        var sent = new List<Sent>();
        for (var i = 0; i < 30; i++)
        {
            // 15 fps video of 2.5–9.6 KB JPEG frames, audio PCM chunks, and chat objects, interleaved as on one stream.
            sent.Add(new Sent("live_video", "video", SeedMessages.Jpeg(random, random.Next(2_500, 9_600))));
            sent.Add(new Sent("live_audio", "audio", SeedMessages.Pcm16(2048, i * 2048)));
            if (i % 5 == 0)
            {
                sent.Add(new Sent("live_chat", "chat", SeedMessages.Chat(i, "alice", $"hello {i} 👋")));
            }
        }

        var received = await ReadThroughPipeAsync(Encode(sent), [1200, 7, 4096, 31, 1]);

        AssertSame(sent, received);
        var chat = Encoding.UTF8.GetString(received.First(m => m.TrackType == "chat").Payload);
        Assert.Contains("\"message_id\":\"msg-0\"", chat, StringComparison.Ordinal);
    }

    [Fact]
    public void AnyChunking_YieldsTheSameMessages_Property()
    {
        var messageGen =
            from id in Gen.Elements("live_video", "live_audio", "live_chat", "", "x", "0123456789abcdef", "ünï")
            from type in Gen.Elements("video", "audio", "chat", "file", "screen", "a", "twelve-chars")
            from length in Gen.Choose(0, 3000)
            from seed in Gen.Choose(0, int.MaxValue)
            select new Sent(id, type, RandomBytes(seed, length));
        var caseGen =
            from messageCount in Gen.Choose(0, 12)
            from messages in messageGen.ArrayOf(messageCount)
            from chunkCount in Gen.Choose(1, 8)
            from chunks in Gen.Choose(1, 5000).ArrayOf(chunkCount)
            select (messages, chunks);

        Prop.ForAll(caseGen.ToArbitrary(), c =>
        {
            var bytes = Encode(c.messages);

            // Through the static parser over a multi-segment sequence...
            var sequence = SequenceBuilder.Chunked(bytes, c.chunks);
            var parsed = new List<Sent>();
            while (TrackFraming.TryReadMessage(ref sequence, TrackFraming.DefaultMaxPayloadLength, out var message))
            {
                parsed.Add(new Sent(message.Header.GetTrackId(), message.Header.GetTrackType(), message.Payload.ToArray()));
            }

            AssertSame(c.messages, parsed);
            Assert.Equal(0, sequence.Length);

            // ...and through a pipe, chunk by chunk.
            AssertSame(c.messages, ReadThroughPipeAsync(bytes, c.chunks).GetAwaiter().GetResult());
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    // Zeroing all twelve type bytes makes it empty.
    [InlineData(20, 0x00, 12, TrackHeaderError.EmptyTrackType)]
    // A tab in the type.
    [InlineData(21, 0x09, 1, TrackHeaderError.TrackTypeNotPrintableAscii)]
    // A stray byte after the type's padding.
    [InlineData(30, 0x41, 1, TrackHeaderError.TrackTypePaddingNotTrailing)]
    // A stray byte after the ID's padding.
    [InlineData(14, 0x41, 1, TrackHeaderError.TrackIdPaddingNotTrailing)]
    // An invalid UTF-8 lead byte in the ID.
    [InlineData(0, 0xFF, 1, TrackHeaderError.TrackIdNotUtf8)]
    // The top byte of payload_len makes it 16 MiB + 4, over the 1 MiB limit.
    [InlineData(16, 0x01, 1, TrackHeaderError.PayloadTooLarge)]
    public async Task MalformedHeader_StopsTheStream_NothingAfterIsYielded(int offset, byte value, int count, TrackHeaderError expected)
    {
        var good = TrackFraming.EncodeMessage("live_audio", "audio", new byte[4]);
        var bad = TrackFraming.EncodeMessage("live_audio", "audio", new byte[4]);
        bad.AsSpan(offset, count).Fill(value);
        var bytes = good.Concat(bad).Concat(good).Concat(good).ToArray();

        // Whole, byte by byte, and in odd-sized chunks: the outcome is the same.
        foreach (var chunk in new[] { bytes.Length, 1, 13 })
        {
            var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
            for (var i = 0; i < bytes.Length; i += chunk)
            {
                await pipe.Writer.WriteAsync(bytes.AsMemory(i, Math.Min(chunk, bytes.Length - i)));
            }

            await pipe.Writer.CompleteAsync();
            var reader = new TrackMessageReader(pipe.Reader);

            Assert.True(await reader.MoveNextAsync());
            var first = await Assert.ThrowsAsync<TrackHeaderException>(async () => await reader.MoveNextAsync());
            Assert.Equal(expected, first.Error);

            // The reader is latched: the good messages after the bad one never come out.
            var again = await Assert.ThrowsAsync<TrackHeaderException>(async () => await reader.MoveNextAsync());
            Assert.Same(first, again);
            Assert.Equal(1, reader.MessagesRead);
        }
    }

    [Theory]
    // The stream ends inside the header.
    [InlineData(10)]
    // The stream ends inside the payload.
    [InlineData(40)]
    public async Task StreamEndingInsideAMessage_IsTruncated(int keep)
    {
        var bytes = TrackFraming.EncodeMessage("live_chat", "chat", new byte[100])[..keep];
        var ex = await Assert.ThrowsAsync<TrackHeaderException>(() => ReadThroughPipeAsync(bytes, [3]));
        Assert.Equal(TrackHeaderError.TruncatedMessage, ex.Error);
    }

    [Fact]
    public async Task EmptyStream_EndsCleanly()
    {
        Assert.Empty(await ReadThroughPipeAsync([], []));
    }

    [Fact]
    public async Task SplitMessages_AreCountedAsFragmented()
    {
        var message = TrackFraming.EncodeMessage("live_video", "video", new byte[5000]);
        var pipe = new Pipe();
        var input = new CountingReader(pipe.Reader);
        var reader = new TrackMessageReader(input);

        // One message in one write: not fragmented.
        await pipe.Writer.WriteAsync(message);
        Assert.True(await reader.MoveNextAsync());

        // One message in three writes, each read separately: fragmented.
        var pending = reader.MoveNextAsync();
        await pipe.Writer.WriteAsync(message.AsMemory(0, 10));
        await pipe.Writer.WriteAsync(message.AsMemory(10, 3000));

        // The reader must have taken the first part (and asked for more) before the rest is written, or it would see
        // the whole message in one read; on a loaded machine its continuation can be late, so wait for that third
        // ReadAsync rather than for a fixed time.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref input.Reads) < 3 && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(5);
        }

        Assert.Equal(3, Volatile.Read(ref input.Reads));
        Assert.False(pending.IsCompleted);
        await pipe.Writer.WriteAsync(message.AsMemory(3010));
        Assert.True(await pending);
        await pipe.Writer.CompleteAsync();
        Assert.False(await reader.MoveNextAsync());

        Assert.Equal(2, reader.MessagesRead);
        Assert.Equal(1, reader.FragmentedMessages);
    }

    [Fact]
    public void HugeClaimedPayload_AllocatesNothingBeforeTheBytesArrive()
    {
        var header = new byte[TrackHeader.Size];
        TrackHeader.Create("live_video", "video", 1_000_000_000).WriteTo(header);
        var sequence = new ReadOnlySequence<byte>(header);
        Assert.False(TrackFraming.TryReadMessage(ref sequence, uint.MaxValue, out _)); // JIT warm-up

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            Assert.False(TrackFraming.TryReadMessage(ref sequence, uint.MaxValue, out _));
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void Fuzz_RandomAndMutatedInput_OnlyTypedErrors()
    {
        var random = new Random(7);
        var valid = Encode(Enumerable.Range(0, 20).Select(i => new Sent($"t{i}", i % 2 == 0 ? "video" : "chat", RandomBytes(i, random.Next(0, 300)))));
        var deadline = DateTime.UtcNow.AddSeconds(3);
        var runs = 0;
        while (DateTime.UtcNow < deadline)
        {
            byte[] input;
            if (runs % 2 == 0)
            {
                input = new byte[random.Next(0, 600)];
                random.NextBytes(input);
            }
            else
            {
                input = (byte[])valid.Clone();
                for (var m = random.Next(1, 8); m > 0; m--)
                {
                    input[random.Next(input.Length)] = (byte)random.Next(256);
                }
            }

            const uint max = 4096;
            var sequence = SequenceBuilder.Chunked(input, [random.Next(1, 64), random.Next(1, 64)]);
            try
            {
                while (TrackFraming.TryReadMessage(ref sequence, max, out var message))
                {
                    Assert.True(message.Header.PayloadLength <= max);
                    Assert.Equal(message.Header.PayloadLength, message.Payload.Length);
                    Assert.NotEqual(0, message.Header.TrackType.Length);
                }

                // What is left is an incomplete message, never more than one message could need.
                Assert.True(sequence.Length < TrackHeader.Size + max);
            }
            catch (TrackHeaderException ex)
            {
                Assert.NotEqual(TrackHeaderError.None, ex.Error);
            }

            runs++;
        }

        Assert.True(runs > 100, $"only {runs} fuzz runs");
    }

    private static byte[] RandomBytes(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A PipeReader that counts the reads asked of it, so a test can wait for the reader to have taken input.</summary>
    private sealed class CountingReader(PipeReader inner) : PipeReader
    {
        public int Reads;

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Reads);
            return inner.ReadAsync(cancellationToken);
        }

        public override bool TryRead(out ReadResult result) => inner.TryRead(out result);

        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);
    }
}
