using System.Buffers;

namespace Switchyard.Tracks.Framing;

/// <summary>
/// One framed message: its header and its payload as a slice of the input. The payload is not copied, so it is valid
/// only until the input it came from is consumed (for <see cref="TrackMessageReader"/>: the next call to
/// <see cref="TrackMessageReader.MoveNextAsync"/>).
/// </summary>
public readonly struct TrackMessage
{
    /// <summary>Creates a message view.</summary>
    public TrackMessage(TrackHeader header, ReadOnlySequence<byte> payload)
    {
        Header = header;
        Payload = payload;
    }

    /// <summary>The message's header.</summary>
    public TrackHeader Header { get; }

    /// <summary>The payload bytes, exactly <see cref="TrackHeader.PayloadLength"/> of them.</summary>
    public ReadOnlySequence<byte> Payload { get; }
}

/// <summary>The framing of a track stream: a sequence of header-plus-payload messages.</summary>
public static class TrackFraming
{
    /// <summary>The default largest payload accepted: 1 MiB, well above a 1280×720 JPEG frame.</summary>
    public const uint DefaultMaxPayloadLength = 1 << 20;

    /// <summary>
    /// Reads one whole message from the front of <paramref name="buffer"/>. On success the buffer is advanced past it;
    /// when the message is incomplete the buffer is left as it was and false is returned.
    /// </summary>
    /// <remarks>
    /// Incomplete input is never copied or reserved for: the caller keeps the bytes that arrived (bounded by
    /// <paramref name="maxPayloadLength"/> plus the header), whatever <c>payload_len</c> claims.
    /// </remarks>
    /// <exception cref="TrackHeaderException">The header at the front of the buffer is malformed.</exception>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, uint maxPayloadLength, out TrackMessage message)
    {
        if (!TrackHeaderCodec.TryRead(buffer, maxPayloadLength, out var header))
        {
            message = default;
            return false;
        }

        var total = TrackHeader.Size + (long)header.PayloadLength;
        if (buffer.Length < total)
        {
            message = default;
            return false;
        }

        message = new TrackMessage(header, buffer.Slice(TrackHeader.Size, header.PayloadLength));
        buffer = buffer.Slice(total);
        return true;
    }

    /// <summary>Writes a header followed by <paramref name="payload"/> to <paramref name="writer"/>.</summary>
    public static void WriteMessage(IBufferWriter<byte> writer, in TrackHeader header, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (payload.Length != header.PayloadLength)
        {
            throw new ArgumentException($"The header says {header.PayloadLength} payload bytes but {payload.Length} were given.", nameof(payload));
        }

        header.WriteTo(writer.GetSpan(TrackHeader.Size));
        writer.Advance(TrackHeader.Size);
        writer.Write(payload);
    }

    /// <summary>Encodes one message into a new array (for clients and tests).</summary>
    public static byte[] EncodeMessage(string trackId, string trackType, ReadOnlySpan<byte> payload)
    {
        var header = TrackHeader.Create(trackId, trackType, (uint)payload.Length);
        var bytes = new byte[TrackHeader.Size + payload.Length];
        header.WriteTo(bytes);
        payload.CopyTo(bytes.AsSpan(TrackHeader.Size));
        return bytes;
    }
}
