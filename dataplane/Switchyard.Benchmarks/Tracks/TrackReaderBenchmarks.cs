using System.Buffers;
using BenchmarkDotNet.Attributes;
using Switchyard.Tracks.Framing;

namespace Switchyard.Benchmarks.Tracks;

/// <summary>
/// The track reader on the steady path: the seed's mix of video, audio and chat messages, delivered in QUIC-sized reads.
/// Each operation is one message, so "Allocated" is bytes per message.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[CsvMeasurementsExporter]
public class TrackReaderBenchmarks
{
    private const int Messages = 1_000;

    private ReadOnlySequence<byte> _input;
    private ReplayPipeReader _pipe = null!;

    /// <summary>Bytes per read handed to the reader: one QUIC packet's worth, or a large coalesced read.</summary>
    [Params(1_200, 16_384)]
    public int ReadSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        using var stream = new MemoryStream();
        for (var i = 0; i < Messages; i++)
        {
            var (id, type, size) = (i % 3) switch
            {
                0 => ("live_video", "video", random.Next(2_500, 9_600)),
                1 => ("live_audio", "audio", 4_096),
                _ => ("live_chat", "chat", random.Next(80, 200)),
            };
            var payload = new byte[size];
            random.NextBytes(payload);
            stream.Write(TrackFraming.EncodeMessage(id, type, payload));
        }

        // Split the input into 4 KiB segments so headers and payloads straddle segment boundaries, as in a real pipe.
        _input = Segments.Split(stream.ToArray(), 4_096);
        _pipe = new ReplayPipeReader(_input, ReadSize);
    }

    /// <summary>The static parser over a multi-segment buffer.</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public long Parse()
    {
        var buffer = _input;
        long payloadBytes = 0;
        while (TrackFraming.TryReadMessage(ref buffer, TrackFraming.DefaultMaxPayloadLength, out var message))
        {
            payloadBytes += message.Payload.Length;
        }

        return payloadBytes;
    }

    /// <summary>The stream reader over a PipeReader fed in <see cref="ReadSize"/> reads.</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public async Task<long> ReadStream()
    {
        _pipe.Reset();
        var reader = new TrackMessageReader(_pipe);
        long payloadBytes = 0;
        while (await reader.MoveNextAsync().ConfigureAwait(false))
        {
            payloadBytes += reader.Current.Payload.Length;
        }

        return payloadBytes;
    }

    private static class Segments
    {
        public static ReadOnlySequence<byte> Split(byte[] data, int size)
        {
            Segment? first = null;
            Segment? last = null;
            for (var offset = 0; offset < data.Length; offset += size)
            {
                var segment = new Segment(data.AsMemory(offset, Math.Min(size, data.Length - offset)), last);
                first ??= segment;
                last = segment;
            }

            return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
        }

        private sealed class Segment : ReadOnlySequenceSegment<byte>
        {
            public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
            {
                Memory = memory;
                if (previous is not null)
                {
                    RunningIndex = previous.RunningIndex + previous.Memory.Length;
                    previous.Next = this;
                }
            }
        }
    }
}
