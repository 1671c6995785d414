namespace Switchyard.Quic.Packets;

/// <summary>Transport error codes of RFC 9000 §20.1.</summary>
internal static class TransportErrorCode
{
    public const long NoError = 0x0;
    public const long InternalError = 0x1;
    public const long ConnectionRefused = 0x2;
    public const long FlowControlError = 0x3;
    public const long StreamLimitError = 0x4;
    public const long StreamStateError = 0x5;
    public const long FinalSizeError = 0x6;
    public const long FrameEncodingError = 0x7;
    public const long TransportParameterError = 0x8;
    public const long ConnectionIdLimitError = 0x9;
    public const long ProtocolViolation = 0xa;
    public const long InvalidToken = 0xb;
    public const long ApplicationError = 0xc;
    public const long CryptoBufferExceeded = 0xd;
    public const long KeyUpdateError = 0xe;
    public const long AeadLimitReached = 0xf;
    public const long NoViablePath = 0x10;
    public const long CryptoErrorBase = 0x100;
}

/// <summary>
/// A connection error (RFC 9000 §11.1): the connection is closed with CONNECTION_CLOSE 0x1c carrying
/// <see cref="ErrorCode"/> and, when known, the type of the frame that triggered it.
/// </summary>
internal sealed class QuicTransportErrorException : Exception
{
    public QuicTransportErrorException(long errorCode, long frameType, string message)
        : base(message)
    {
        ErrorCode = errorCode;
        FrameType = frameType;
    }

    public QuicTransportErrorException(long errorCode, string message)
        : this(errorCode, 0, message)
    {
    }

    /// <summary>The RFC 9000 §20.1 error code.</summary>
    public long ErrorCode { get; }

    /// <summary>The frame type that caused the error, or 0.</summary>
    public long FrameType { get; }
}
