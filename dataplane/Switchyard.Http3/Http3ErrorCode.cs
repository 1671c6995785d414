namespace Switchyard.Http3;

/// <summary>HTTP/3 error codes (RFC 9114 §8.1), QPACK error codes (RFC 9204 §6) and H3_DATAGRAM_ERROR (RFC 9297 §2.1).</summary>
public enum Http3ErrorCode : long
{
    /// <summary>No error: used to close a connection or stream without signalling a problem.</summary>
    NoError = 0x100,

    /// <summary>A protocol error with no more specific code.</summary>
    GeneralProtocolError = 0x101,

    /// <summary>An internal error in the HTTP stack.</summary>
    InternalError = 0x102,

    /// <summary>The peer created a stream that will not be accepted.</summary>
    StreamCreationError = 0x103,

    /// <summary>A stream required by the HTTP/3 connection was closed or reset.</summary>
    ClosedCriticalStream = 0x104,

    /// <summary>A frame was received that is not permitted in the current state or on the current stream.</summary>
    FrameUnexpected = 0x105,

    /// <summary>A frame does not meet layout requirements or has an invalid size.</summary>
    FrameError = 0x106,

    /// <summary>The peer is generating excessive load.</summary>
    ExcessiveLoad = 0x107,

    /// <summary>A stream ID or push ID was used incorrectly.</summary>
    IdError = 0x108,

    /// <summary>An error in the payload of a SETTINGS frame.</summary>
    SettingsError = 0x109,

    /// <summary>No SETTINGS frame at the start of the control stream.</summary>
    MissingSettings = 0x10a,

    /// <summary>A request was rejected without any application processing.</summary>
    RequestRejected = 0x10b,

    /// <summary>The request or its response is cancelled.</summary>
    RequestCancelled = 0x10c,

    /// <summary>The client's stream terminated without containing a fully formed request.</summary>
    RequestIncomplete = 0x10d,

    /// <summary>An HTTP message was malformed and cannot be processed.</summary>
    MessageError = 0x10e,

    /// <summary>The TCP connection established in response to a CONNECT request was reset or abnormally closed.</summary>
    ConnectError = 0x10f,

    /// <summary>The requested operation cannot be served over HTTP/3; the peer should retry over HTTP/1.1.</summary>
    VersionFallback = 0x110,

    /// <summary>The decoder failed to interpret an encoded field section (RFC 9204 §6).</summary>
    QpackDecompressionFailed = 0x200,

    /// <summary>The decoder failed to interpret an encoder instruction (RFC 9204 §6).</summary>
    QpackEncoderStreamError = 0x201,

    /// <summary>The encoder failed to interpret a decoder instruction (RFC 9204 §6).</summary>
    QpackDecoderStreamError = 0x202,

    /// <summary>A malformed HTTP datagram or H3_DATAGRAM setting (RFC 9297 §2.1, §5).</summary>
    DatagramError = 0x33,
}
