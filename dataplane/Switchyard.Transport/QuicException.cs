namespace Switchyard.Transport;

/// <summary>Why a QUIC operation failed. Mirrors <c>System.Net.Quic.QuicError</c>.</summary>
public enum QuicError
{
    /// <summary>A transport-level protocol error; see <see cref="QuicException.TransportErrorCode"/>.</summary>
    TransportError,

    /// <summary>The peer closed the connection with an application error code.</summary>
    ConnectionAborted,

    /// <summary>The peer aborted the stream half (RESET_STREAM or STOP_SENDING).</summary>
    StreamAborted,

    /// <summary>The idle timeout expired (RFC 9000 §10.1).</summary>
    ConnectionIdle,

    /// <summary>The handshake did not complete in time.</summary>
    ConnectionTimeout,

    /// <summary>The server refused the connection.</summary>
    ConnectionRefused,

    /// <summary>No common QUIC version (RFC 9000 §6).</summary>
    VersionNegotiationError,

    /// <summary>The local side aborted the operation.</summary>
    OperationAborted,
}

/// <summary>A QUIC failure, carrying the error code from the wire.</summary>
public sealed class QuicException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QuicException(QuicError error, long? applicationErrorCode, long? transportErrorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        QuicError = error;
        ApplicationErrorCode = applicationErrorCode;
        TransportErrorCode = transportErrorCode;
    }

    /// <summary>What kind of failure this is.</summary>
    public QuicError QuicError { get; }

    /// <summary>The application error code from RESET_STREAM, STOP_SENDING or CONNECTION_CLOSE 0x1d.</summary>
    public long? ApplicationErrorCode { get; }

    /// <summary>The transport error code (RFC 9000 §20.1) from CONNECTION_CLOSE 0x1c.</summary>
    public long? TransportErrorCode { get; }
}
