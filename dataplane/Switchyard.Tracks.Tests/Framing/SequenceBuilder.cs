using System.Buffers;

namespace Switchyard.Tracks.Tests.Framing;

/// <summary>Builds multi-segment sequences so parsers meet every possible split.</summary>
internal static class SequenceBuilder
{
    public static ReadOnlySequence<byte> Chunked(byte[] data, IReadOnlyList<int> chunkSizes)
    {
        if (data.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Segment? first = null;
        Segment? last = null;
        var offset = 0;
        var i = 0;
        while (offset < data.Length)
        {
            var size = Math.Clamp(chunkSizes.Count == 0 ? data.Length : chunkSizes[i++ % chunkSizes.Count], 1, data.Length - offset);
            var segment = new Segment(data.AsMemory(offset, size));
            if (first is null)
            {
                first = segment;
            }
            else
            {
                last!.Append(segment);
            }

            last = segment;
            offset += size;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public void Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
        }
    }
}
