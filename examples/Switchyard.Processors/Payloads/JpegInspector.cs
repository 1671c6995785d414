using System.Buffers.Binary;

namespace Switchyard.Processors.Payloads;

/// <summary>What a cheap look at a JPEG frame found.</summary>
/// <param name="IsJpeg">The payload starts with the SOI marker (<c>FF D8</c>).</param>
/// <param name="Complete">The payload also ends with the EOI marker (<c>FF D9</c>), so the frame was not cut short.</param>
/// <param name="Width">Samples per line from the first SOF0/SOF1/SOF2 segment, when one was found.</param>
/// <param name="Height">Number of lines from that segment, when one was found.</param>
internal readonly record struct JpegInfo(bool IsJpeg, bool Complete, int? Width, int? Height);

/// <summary>
/// Reads just enough of a JPEG (ITU-T T.81) to say whether it is whole and how large it is: the marker segments before
/// the first scan, never the entropy-coded data.
/// </summary>
internal static class JpegInspector
{
    private const byte MarkerPrefix = 0xFF;
    private const byte Soi = 0xD8;
    private const byte Eoi = 0xD9;
    private const byte Sos = 0xDA;
    private const byte Tem = 0x01;

    /// <summary>Inspects one frame. Never throws: a damaged frame yields what could be read.</summary>
    public static JpegInfo Inspect(ReadOnlySpan<byte> data)
    {
        // T.81 B.2.1: a compressed image starts with SOI and ends with EOI.
        var isJpeg = data.Length >= 2 && data[0] == MarkerPrefix && data[1] == Soi;
        if (!isJpeg)
        {
            return new JpegInfo(false, false, null, null);
        }

        var complete = data.Length >= 4 && data[^2] == MarkerPrefix && data[^1] == Eoi;
        var (width, height) = FindFrameSize(data);
        return new JpegInfo(true, complete, width, height);
    }

    private static (int? Width, int? Height) FindFrameSize(ReadOnlySpan<byte> data)
    {
        var position = 2;
        while (position + 1 < data.Length)
        {
            if (data[position] != MarkerPrefix)
            {
                // Only marker segments may sit between SOI and the first scan; anything else means damage.
                return (null, null);
            }

            // T.81 B.1.1.2: any number of 0xFF fill bytes may precede a marker code.
            var code = data[position + 1];
            if (code == MarkerPrefix)
            {
                position++;
                continue;
            }

            position += 2;
            if (code == Tem || code is >= 0xD0 and <= 0xD7 || code == Soi)
            {
                // Stand-alone markers carry no length (T.81 B.1.1.3).
                continue;
            }

            if (code == Eoi || code == Sos || position + 2 > data.Length)
            {
                // Entropy-coded data follows SOS; the frame header must come before it.
                return (null, null);
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(data[position..]);
            if (length < 2 || position + length > data.Length)
            {
                return (null, null);
            }

            // SOF0 baseline, SOF1 extended sequential, SOF2 progressive (T.81 B.2.2): P, Y (lines), X (samples per line).
            if (code is 0xC0 or 0xC1 or 0xC2)
            {
                if (length < 7)
                {
                    return (null, null);
                }

                var height = BinaryPrimitives.ReadUInt16BigEndian(data[(position + 3)..]);
                var width = BinaryPrimitives.ReadUInt16BigEndian(data[(position + 5)..]);
                return (width, height);
            }

            position += length;
        }

        return (null, null);
    }
}
