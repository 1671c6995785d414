namespace Switchyard.Http3.Connection;

/// <summary>Creates the per-connection instance of an HTTP/3 extension (for example WebTransport).</summary>
/// <param name="connection">The connection the extension serves.</param>
public delegate IHttp3ConnectionExtension Http3ExtensionFactory(Http3Connection connection);

/// <summary>Settings and limits of an HTTP/3 connection, server or client.</summary>
public sealed class Http3ConnectionOptions
{
    /// <summary>
    /// Largest decoded field section accepted, advertised as SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2).
    /// </summary>
    public int MaxFieldSectionSize { get; set; } = 16 * 1024;

    /// <summary>Dynamic table capacity our QPACK decoder allows, advertised as SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204 §5).</summary>
    public int QpackMaxTableCapacity { get; set; } = 4096;

    /// <summary>Streams that may wait on the dynamic table at once, advertised as SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §5).</summary>
    public int QpackBlockedStreams { get; set; } = 16;

    /// <summary>Largest payload of a control-stream frame (SETTINGS, GOAWAY, …) that is buffered; larger is H3_EXCESSIVE_LOAD.</summary>
    public int MaxControlFramePayload { get; set; } = 16 * 1024;

    /// <summary>Accept (server) or allow (client) extended CONNECT with <c>:protocol</c>: sends SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 9220).</summary>
    public bool EnableExtendedConnect { get; set; }

    /// <summary>Send and accept HTTP datagrams: sends SETTINGS_H3_DATAGRAM = 1 (RFC 9297 §2.1.1).</summary>
    public bool EnableDatagrams { get; set; }

    /// <summary>Further SETTINGS to send, for extensions (for example SETTINGS_ENABLE_WEBTRANSPORT).</summary>
    public IDictionary<long, long> AdditionalSettings { get; set; } = new Dictionary<long, long>();

    /// <summary>Extensions instantiated for each connection, offered streams that HTTP/3 does not define.</summary>
    public IList<Http3ExtensionFactory> Extensions { get; set; } = new List<Http3ExtensionFactory>();

    /// <summary>Send one reserved (GREASE) setting so peers exercise their unknown-setting path (RFC 9114 §7.2.4.1).</summary>
    public bool SendGreaseSetting { get; set; } = true;

    /// <summary>A shallow copy whose collections are new, so a layer can add settings or extensions without touching the original.</summary>
    public Http3ConnectionOptions Clone() => new()
    {
        MaxFieldSectionSize = MaxFieldSectionSize,
        QpackMaxTableCapacity = QpackMaxTableCapacity,
        QpackBlockedStreams = QpackBlockedStreams,
        MaxControlFramePayload = MaxControlFramePayload,
        EnableExtendedConnect = EnableExtendedConnect,
        EnableDatagrams = EnableDatagrams,
        AdditionalSettings = new Dictionary<long, long>(AdditionalSettings),
        Extensions = new List<Http3ExtensionFactory>(Extensions),
        SendGreaseSetting = SendGreaseSetting,
    };
}

/// <summary>
/// The per-connection part of an HTTP/3 extension. HTTP/3 offers it every peer-initiated stream it does not define
/// itself; an extension that takes a stream owns it from then on.
/// </summary>
public interface IHttp3ConnectionExtension
{
    /// <summary>
    /// Offered a peer-initiated unidirectional stream of a type HTTP/3 and QPACK do not define (RFC 9114 §6.2). The
    /// stream is positioned just after the stream type. Return true to take it; false lets HTTP/3 refuse it with
    /// STOP_SENDING H3_STREAM_CREATION_ERROR.
    /// </summary>
    bool TryAcceptUnidirectionalStream(long streamType, Transport.IQuicStream stream);

    /// <summary>
    /// Offered a peer-initiated bidirectional stream whose leading varint is not a frame type HTTP/3 interprets (for
    /// example WebTransport's 0x41 signal). The stream is positioned just after that value. Return true to take it.
    /// </summary>
    bool TryAcceptBidirectionalStream(long signal, Transport.IQuicStream stream);

    /// <summary>The connection has closed; release per-connection state.</summary>
    void OnConnectionClosed();
}
