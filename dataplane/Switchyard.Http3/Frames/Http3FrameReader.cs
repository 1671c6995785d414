using System.Buffers;

namespace Switchyard.Http3.Frames;

/// <summary>
/// Parses HTTP/3 frames (RFC 9114 §7.1): <c>type (i) | length (i) | payload</c>. The methods return false while the
/// input is incomplete and never allocate; a declared length above the caller's limit is rejected before its bytes arrive.
/// </summary>
public static class Http3FrameReader
{
    /// <summary>
    /// Reads a frame's type and length. Returns false when the header itself is incomplete.
    /// </summary>
    /// <param name="input">Bytes at the start of a frame.</param>
    /// <param name="type">The frame type.</param>
    /// <param name="payloadLength">The declared payload length.</param>
    /// <param name="headerLength">How many bytes the type and length took.</param>
    public static bool TryReadFrameHeader(ReadOnlySpan<byte> input, out long type, out long payloadLength, out int headerLength)
    {
        payloadLength = 0;
        headerLength = 0;
        if (!VariableLengthInteger.TryRead(input, out type, out int typeLength))
        {
            return false;
        }

        if (!VariableLengthInteger.TryRead(input[typeLength..], out payloadLength, out int lengthLength))
        {
            return false;
        }

        headerLength = typeLength + lengthLength;
        return true;
    }

    /// <summary>
    /// Reads one whole frame. On success <paramref name="input"/> is advanced past it and <paramref name="payload"/>
    /// slices the original buffer; on false nothing is consumed.
    /// </summary>
    /// <param name="input">The buffered bytes of a stream.</param>
    /// <param name="maxPayloadLength">The largest payload the caller will buffer for this stream.</param>
    /// <param name="type">The frame type.</param>
    /// <param name="payload">The payload.</param>
    /// <exception cref="Http3ConnectionException">H3_EXCESSIVE_LOAD when the declared length exceeds <paramref name="maxPayloadLength"/> (RFC 9114 §10.5).</exception>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> input, long maxPayloadLength, out long type, out ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(input);
        payload = default;
        if (!VariableLengthInteger.TryRead(ref reader, out type) || !VariableLengthInteger.TryRead(ref reader, out long length))
        {
            return false;
        }

        if (length > maxPayloadLength)
        {
            throw new Http3ConnectionException(Http3ErrorCode.ExcessiveLoad, $"Frame type 0x{type:x} declares {length} bytes, above the limit of {maxPayloadLength} (RFC 9114 §7.1, §10.5).");
        }

        if (reader.Remaining < length)
        {
            return false;
        }

        payload = input.Slice(reader.Position, length);
        input = input.Slice(payload.End);
        return true;
    }

    /// <summary>
    /// True for the frame types HTTP/2 used that HTTP/3 reserves (0x02, 0x06, 0x08, 0x09): receiving one is
    /// H3_FRAME_UNEXPECTED (RFC 9114 §7.2.8).
    /// </summary>
    public static bool IsReservedHttp2FrameType(long type) => type is 0x02 or 0x06 or 0x08 or 0x09;

    /// <summary>True for the GREASE codepoints <c>0x1f * N + 0x21</c> reserved to exercise unknown-value handling (RFC 9114 §7.2.8, §8.1).</summary>
    public static bool IsGrease(long value) => value >= 0x21 && (value - 0x21) % 0x1f == 0;
}
