using System.Buffers;

namespace Switchyard.Http3.Frames;

/// <summary>Writes HTTP/3 frames (RFC 9114 §7.2) into a buffer writer.</summary>
public static class Http3FrameWriter
{
    /// <summary>Writes a frame header (type and length); the payload follows it.</summary>
    public static void WriteFrameHeader(IBufferWriter<byte> output, long type, long payloadLength)
    {
        VariableLengthInteger.Write(output, type);
        VariableLengthInteger.Write(output, payloadLength);
    }

    /// <summary>Writes a frame header into <paramref name="destination"/> and returns its length.</summary>
    public static int WriteFrameHeader(Span<byte> destination, long type, long payloadLength)
    {
        int n = VariableLengthInteger.Write(destination, type);
        return n + VariableLengthInteger.Write(destination[n..], payloadLength);
    }

    /// <summary>Writes a whole frame.</summary>
    public static void WriteFrame(IBufferWriter<byte> output, long type, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteFrameHeader(output, type, payload.Length);
        output.Write(payload);
    }

    /// <summary>Writes a SETTINGS frame (§7.2.4) with the given identifier/value pairs.</summary>
    public static void WriteSettings(IBufferWriter<byte> output, IEnumerable<KeyValuePair<long, long>> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var payload = new ArrayBufferWriter<byte>();
        foreach ((long id, long value) in settings)
        {
            VariableLengthInteger.Write(payload, id);
            VariableLengthInteger.Write(payload, value);
        }

        WriteFrame(output, (long)Http3FrameType.Settings, payload.WrittenSpan);
    }

    /// <summary>Writes a frame whose payload is one variable-length integer: GOAWAY, MAX_PUSH_ID or CANCEL_PUSH (§7.2.3, §7.2.6, §7.2.7).</summary>
    public static void WriteIdFrame(IBufferWriter<byte> output, Http3FrameType type, long id)
    {
        WriteFrameHeader(output, (long)type, VariableLengthInteger.GetByteCount(id));
        VariableLengthInteger.Write(output, id);
    }
}
