namespace Switchyard.Tracks.Framing;

/// <summary>Why a track header was refused. Each case maps to one stream error code (see <c>TrackErrorCodes</c>).</summary>
public enum TrackHeaderError
{
    /// <summary>The header is well formed.</summary>
    None = 0,

    /// <summary><c>track_type</c> is all NUL bytes.</summary>
    EmptyTrackType,

    /// <summary><c>track_type</c> holds a byte outside printable ASCII (0x20–0x7E).</summary>
    TrackTypeNotPrintableAscii,

    /// <summary><c>track_type</c> has a NUL followed by a non-NUL byte: its padding is not trailing.</summary>
    TrackTypePaddingNotTrailing,

    /// <summary><c>track_id</c> has a NUL followed by a non-NUL byte: its padding is not trailing.</summary>
    TrackIdPaddingNotTrailing,

    /// <summary><c>track_id</c> is not valid UTF-8.</summary>
    TrackIdNotUtf8,

    /// <summary><c>payload_len</c> exceeds the configured maximum.</summary>
    PayloadTooLarge,

    /// <summary>The stream ended (FIN) in the middle of a header or payload.</summary>
    TruncatedMessage,
}

/// <summary>A malformed track header. The stream that carried it is reset and nothing after it is read.</summary>
public sealed class TrackHeaderException : Exception
{
    /// <summary>Creates the exception for <paramref name="error"/>.</summary>
    public TrackHeaderException(TrackHeaderError error, uint payloadLength = 0, uint maxPayloadLength = 0)
        : base(Describe(error, payloadLength, maxPayloadLength))
    {
        if (error == TrackHeaderError.None)
        {
            throw new ArgumentOutOfRangeException(nameof(error), "A well-formed header is not an error.");
        }

        Error = error;
        PayloadLength = payloadLength;
    }

    /// <summary>Which rule the header broke.</summary>
    public TrackHeaderError Error { get; }

    /// <summary>The claimed <c>payload_len</c> (meaningful for <see cref="TrackHeaderError.PayloadTooLarge"/>).</summary>
    public uint PayloadLength { get; }

    /// <summary>A human-readable description of <paramref name="error"/>.</summary>
    public static string Describe(TrackHeaderError error, uint payloadLength = 0, uint maxPayloadLength = 0) => error switch
    {
        TrackHeaderError.None => "well formed",
        TrackHeaderError.EmptyTrackType => "track_type is empty",
        TrackHeaderError.TrackTypeNotPrintableAscii => "track_type holds a byte outside printable ASCII",
        TrackHeaderError.TrackTypePaddingNotTrailing => "track_type has a non-NUL byte after its NUL padding",
        TrackHeaderError.TrackIdPaddingNotTrailing => "track_id has a non-NUL byte after its NUL padding",
        TrackHeaderError.TrackIdNotUtf8 => "track_id is not valid UTF-8",
        TrackHeaderError.PayloadTooLarge => $"payload_len {payloadLength} exceeds the maximum of {maxPayloadLength} bytes",
        TrackHeaderError.TruncatedMessage => "the stream ended inside a message",
        _ => "unknown header error",
    };
}
