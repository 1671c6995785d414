namespace Switchyard.WebTransport;

/// <summary>Limits of WebTransport sessions, shared by server and client.</summary>
public sealed class WebTransportOptions
{
    /// <summary>Sessions one HTTP/3 connection may carry at once; further CONNECTs are answered 429.</summary>
    public int MaxSessionsPerConnection { get; set; } = 16;

    /// <summary>Peer-opened streams a session may have open at once; further ones are refused.</summary>
    public int MaxIncomingStreamsPerSession { get; set; } = 256;

    /// <summary>Streams that may wait for their session's CONNECT to be accepted, per connection (draft-02 §4.4).</summary>
    public int MaxBufferedStreams { get; set; } = 16;

    /// <summary>Received datagrams that may wait unread per session; newer ones are dropped beyond it.</summary>
    public int DatagramQueueLength { get; set; } = 256;

    /// <summary>Largest capsule of a known type that is buffered (CLOSE, DRAIN, DATAGRAM); unknown capsules are skipped at any size.</summary>
    public int MaxCapsuleLength { get; set; } = 64 * 1024;

    /// <summary>How long a locally closed session waits for the peer's FIN on the CONNECT stream before stopping reading.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
