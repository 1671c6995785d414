using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;

namespace Switchyard.Tracks.Framing;

/// <summary>
/// The fixed 32-byte header that starts every message on a routed WebTransport stream (DESIGN.md, "The track header"):
/// <c>track_id</c> (16 bytes UTF-8, NUL-padded), <c>payload_len</c> (u32 big-endian), <c>track_type</c> (12 bytes
/// printable ASCII, NUL-padded).
/// </summary>
/// <remarks>
/// The header is a value: the two text fields are kept as their trimmed bytes inside the struct, so parsing a message
/// allocates nothing. Strings are made only on request (<see cref="GetTrackId"/>, <see cref="GetTrackType"/>), off the
/// hot path.
/// </remarks>
public readonly struct TrackHeader : IEquatable<TrackHeader>
{
    /// <summary>Size of the header on the wire.</summary>
    public const int Size = 32;

    /// <summary>Width of the <c>track_id</c> field.</summary>
    public const int TrackIdFieldSize = 16;

    /// <summary>Width of the <c>track_type</c> field.</summary>
    public const int TrackTypeFieldSize = 12;

    internal const int PayloadLengthOffset = 16;
    internal const int TrackTypeOffset = 20;

    private readonly TrackIdBytes _trackId;
    private readonly TrackTypeBytes _trackType;
    private readonly byte _trackIdLength;
    private readonly byte _trackTypeLength;

    internal TrackHeader(ReadOnlySpan<byte> trackId, ReadOnlySpan<byte> trackType, uint payloadLength)
    {
        trackId.CopyTo(_trackId);
        trackType.CopyTo(_trackType);
        _trackIdLength = (byte)trackId.Length;
        _trackTypeLength = (byte)trackType.Length;
        PayloadLength = payloadLength;
    }

    /// <summary>The number of payload bytes that follow the header.</summary>
    public uint PayloadLength { get; }

    /// <summary>The <c>track_id</c> bytes with the NUL padding removed (valid UTF-8, possibly empty).</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> TrackId => ((ReadOnlySpan<byte>)_trackId)[.._trackIdLength];

    /// <summary>The <c>track_type</c> bytes with the NUL padding removed (printable ASCII, never empty).</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> TrackType => ((ReadOnlySpan<byte>)_trackType)[.._trackTypeLength];

    /// <summary>Builds a header, validating it exactly as the parser would.</summary>
    /// <exception cref="ArgumentException">A field does not fit or would be malformed on the wire.</exception>
    public static TrackHeader Create(string trackId, string trackType, uint payloadLength)
    {
        ArgumentNullException.ThrowIfNull(trackId);
        ArgumentNullException.ThrowIfNull(trackType);
        Span<byte> wire = stackalloc byte[Size];
        wire.Clear();
        if (Encoding.UTF8.GetByteCount(trackId) > TrackIdFieldSize)
        {
            throw new ArgumentException($"track_id is longer than {TrackIdFieldSize} UTF-8 bytes.", nameof(trackId));
        }

        if (trackType.Length > TrackTypeFieldSize)
        {
            throw new ArgumentException($"track_type is longer than {TrackTypeFieldSize} bytes.", nameof(trackType));
        }

        Encoding.UTF8.GetBytes(trackId, wire[..TrackIdFieldSize]);
        BinaryPrimitives.WriteUInt32BigEndian(wire[PayloadLengthOffset..], payloadLength);
        for (var i = 0; i < trackType.Length; i++)
        {
            wire[TrackTypeOffset + i] = trackType[i] < 0x80 ? (byte)trackType[i] : (byte)0xFF;
        }

        var error = TrackHeaderCodec.TryParse(wire, uint.MaxValue, out var header);
        return error == TrackHeaderError.None
            ? header
            : throw new ArgumentException($"The header would be malformed: {TrackHeaderException.Describe(error)}.");
    }

    /// <summary>The track ID as a string (allocates).</summary>
    public string GetTrackId() => Encoding.UTF8.GetString(TrackId);

    /// <summary>The track type as a string (allocates).</summary>
    public string GetTrackType() => Encoding.ASCII.GetString(TrackType);

    /// <summary>Writes the 32 header bytes to <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination) => TrackHeaderCodec.Write(destination, TrackId, TrackType, PayloadLength);

    /// <summary>True when both headers carry the same three fields.</summary>
    public bool Equals(TrackHeader other) =>
        PayloadLength == other.PayloadLength && TrackId.SequenceEqual(other.TrackId) && TrackType.SequenceEqual(other.TrackType);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is TrackHeader other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(TrackId);
        hash.AddBytes(TrackType);
        hash.Add(PayloadLength);
        return hash.ToHashCode();
    }

    /// <summary>Equality of all three fields.</summary>
    public static bool operator ==(TrackHeader left, TrackHeader right) => left.Equals(right);

    /// <summary>Inequality of any field.</summary>
    public static bool operator !=(TrackHeader left, TrackHeader right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => $"{GetTrackType()}/{GetTrackId()} ({PayloadLength} bytes)";

    [InlineArray(TrackIdFieldSize)]
    private struct TrackIdBytes
    {
        private byte _element0;
    }

    [InlineArray(TrackTypeFieldSize)]
    private struct TrackTypeBytes
    {
        private byte _element0;
    }
}
