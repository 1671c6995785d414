using System.Buffers;
using System.Buffers.Binary;
using System.Text.Unicode;

namespace Switchyard.Tracks.Framing;

/// <summary>Reads and writes the 32-byte track header (DESIGN.md, "The track header").</summary>
public static class TrackHeaderCodec
{
    /// <summary>
    /// Parses exactly <see cref="TrackHeader.Size"/> bytes. Returns <see cref="TrackHeaderError.None"/> and the header, or the
    /// first rule the bytes break. Never throws for any input of the right length.
    /// </summary>
    /// <param name="wire">The 32 header bytes.</param>
    /// <param name="maxPayloadLength">The largest <c>payload_len</c> accepted.</param>
    /// <param name="header">The parsed header when the result is <see cref="TrackHeaderError.None"/>.</param>
    public static TrackHeaderError TryParse(ReadOnlySpan<byte> wire, uint maxPayloadLength, out TrackHeader header)
    {
        if (wire.Length != TrackHeader.Size)
        {
            throw new ArgumentException($"A track header is exactly {TrackHeader.Size} bytes.", nameof(wire));
        }

        header = default;
        var trackIdField = wire[..TrackHeader.TrackIdFieldSize];
        var payloadLength = BinaryPrimitives.ReadUInt32BigEndian(wire[TrackHeader.PayloadLengthOffset..]);
        var trackTypeField = wire.Slice(TrackHeader.TrackTypeOffset, TrackHeader.TrackTypeFieldSize);

        // track_type first: it is what routing keys on, and an empty or garbled type is the commonest client bug.
        var typeLength = TrimmedLength(trackTypeField);
        if (typeLength < 0)
        {
            return TrackHeaderError.TrackTypePaddingNotTrailing;
        }

        if (typeLength == 0)
        {
            return TrackHeaderError.EmptyTrackType;
        }

        var trackType = trackTypeField[..typeLength];
        if (trackType.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E) >= 0)
        {
            return TrackHeaderError.TrackTypeNotPrintableAscii;
        }

        var idLength = TrimmedLength(trackIdField);
        if (idLength < 0)
        {
            return TrackHeaderError.TrackIdPaddingNotTrailing;
        }

        var trackId = trackIdField[..idLength];
        if (!Utf8.IsValid(trackId))
        {
            return TrackHeaderError.TrackIdNotUtf8;
        }

        // Checked last so that a garbled header is reported as malformed, not as too large.
        if (payloadLength > maxPayloadLength)
        {
            return TrackHeaderError.PayloadTooLarge;
        }

        header = new TrackHeader(trackId, trackType, payloadLength);
        return TrackHeaderError.None;
    }

    /// <summary>Parses the first 32 bytes of <paramref name="input"/>, which may span segments.</summary>
    /// <returns>False when fewer than 32 bytes are available.</returns>
    /// <exception cref="TrackHeaderException">The header is malformed or its payload is too large.</exception>
    public static bool TryRead(in ReadOnlySequence<byte> input, uint maxPayloadLength, out TrackHeader header)
    {
        if (input.Length < TrackHeader.Size)
        {
            header = default;
            return false;
        }

        TrackHeaderError error;
        var first = input.FirstSpan;
        if (first.Length >= TrackHeader.Size)
        {
            error = TryParse(first[..TrackHeader.Size], maxPayloadLength, out header);
        }
        else
        {
            // The header straddles segments: copy its 32 bytes to the stack, never to the heap.
            Span<byte> copy = stackalloc byte[TrackHeader.Size];
            input.Slice(0, TrackHeader.Size).CopyTo(copy);
            error = TryParse(copy, maxPayloadLength, out header);
        }

        return error == TrackHeaderError.None
            ? true
            : throw new TrackHeaderException(error, PeekPayloadLength(input), maxPayloadLength);
    }

    /// <summary>Writes a header. The fields must already be valid (see <see cref="TrackHeader.Create"/>).</summary>
    public static void Write(Span<byte> destination, ReadOnlySpan<byte> trackId, ReadOnlySpan<byte> trackType, uint payloadLength)
    {
        if (destination.Length < TrackHeader.Size)
        {
            throw new ArgumentException($"The destination needs {TrackHeader.Size} bytes.", nameof(destination));
        }

        if (trackId.Length > TrackHeader.TrackIdFieldSize || trackType.Length > TrackHeader.TrackTypeFieldSize)
        {
            throw new ArgumentException("track_id is at most 16 bytes and track_type at most 12.");
        }

        var header = destination[..TrackHeader.Size];
        header.Clear();
        trackId.CopyTo(header);
        BinaryPrimitives.WriteUInt32BigEndian(header[TrackHeader.PayloadLengthOffset..], payloadLength);
        trackType.CopyTo(header[TrackHeader.TrackTypeOffset..]);
    }

    /// <summary>
    /// The length of a NUL-padded field's content, or -1 when a non-NUL byte follows a NUL (padding must be trailing).
    /// </summary>
    private static int TrimmedLength(ReadOnlySpan<byte> field)
    {
        var firstNul = field.IndexOf((byte)0);
        if (firstNul < 0)
        {
            return field.Length;
        }

        return field[firstNul..].IndexOfAnyExcept((byte)0) >= 0 ? -1 : firstNul;
    }

    private static uint PeekPayloadLength(in ReadOnlySequence<byte> input)
    {
        Span<byte> length = stackalloc byte[4];
        input.Slice(TrackHeader.PayloadLengthOffset, 4).CopyTo(length);
        return BinaryPrimitives.ReadUInt32BigEndian(length);
    }
}
