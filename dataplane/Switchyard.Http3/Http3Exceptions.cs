namespace Switchyard.Http3;

/// <summary>
/// A protocol error whose scope is the whole connection (RFC 9114 §8): the connection is closed with
/// <see cref="ErrorCode"/> as the CONNECTION_CLOSE application error code.
/// </summary>
public sealed class Http3ConnectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errorCode">The code sent to the peer.</param>
    /// <param name="message">What went wrong, citing the RFC section.</param>
    public Http3ConnectionException(Http3ErrorCode errorCode, string message)
        : base(message)
    {
        ErrorCode = errorCode;
    }

    /// <summary>The code sent to the peer.</summary>
    public Http3ErrorCode ErrorCode { get; }
}

/// <summary>
/// A protocol error whose scope is one request stream (RFC 9114 §8): the stream is reset (and reading stopped)
/// with <see cref="ErrorCode"/>; the connection continues.
/// </summary>
public sealed class Http3StreamException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errorCode">The code sent to the peer in RESET_STREAM / STOP_SENDING.</param>
    /// <param name="message">What went wrong, citing the RFC section.</param>
    public Http3StreamException(Http3ErrorCode errorCode, string message)
        : base(message)
    {
        ErrorCode = errorCode;
    }

    /// <summary>The code sent to the peer.</summary>
    public Http3ErrorCode ErrorCode { get; }
}
