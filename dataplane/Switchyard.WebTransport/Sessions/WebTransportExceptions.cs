namespace Switchyard.WebTransport.Sessions;

/// <summary>The peer aborted a WebTransport stream (RESET_STREAM or STOP_SENDING).</summary>
public sealed class WebTransportStreamException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WebTransportStreamException(long http3ErrorCode, Exception? innerException = null)
        : base(Describe(http3ErrorCode), innerException)
    {
        Http3ErrorCode = http3ErrorCode;
        ErrorCode = WebTransportErrorCodes.TryFromHttp3(http3ErrorCode, out uint code) ? code : null;
    }

    /// <summary>The WebTransport application error code, when the HTTP/3 code is in the WebTransport range.</summary>
    public uint? ErrorCode { get; }

    /// <summary>The code as sent on the wire.</summary>
    public long Http3ErrorCode { get; }

    private static string Describe(long http3Code) => WebTransportErrorCodes.TryFromHttp3(http3Code, out uint code)
        ? $"The peer aborted the stream with WebTransport error {code} (HTTP/3 0x{http3Code:x})."
        : $"The peer aborted the stream with HTTP/3 error 0x{http3Code:x}.";
}

/// <summary>A session could not be established or has ended.</summary>
public sealed class WebTransportSessionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WebTransportSessionException(string message, int? statusCode = null)
        : base(message)
    {
        StatusCode = statusCode;
    }

    /// <summary>The CONNECT response status when the server rejected the session.</summary>
    public int? StatusCode { get; }
}

/// <summary>How a session ended.</summary>
/// <param name="ErrorCode">The application error code from CLOSE_WEBTRANSPORT_SESSION, 0 when the stream just ended.</param>
/// <param name="Reason">The reason text, possibly empty.</param>
/// <param name="ClosedByPeer">True when the peer ended the session.</param>
/// <param name="Abrupt">True when the CONNECT stream was reset or the connection closed, rather than closed cleanly.</param>
public readonly record struct WebTransportCloseInfo(uint ErrorCode, string Reason, bool ClosedByPeer, bool Abrupt);
