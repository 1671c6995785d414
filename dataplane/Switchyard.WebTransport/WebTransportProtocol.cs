namespace Switchyard.WebTransport;

/// <summary>
/// Codepoints of WebTransport over HTTP/3 (draft-ietf-webtrans-http3-02, the draft current Chromium speaks) and the
/// newer ones accepted where it costs nothing.
/// </summary>
public static class WebTransportProtocol
{
    /// <summary>SETTINGS_ENABLE_WEBTRANSPORT (draft-02 §3.1): value 1 enables WebTransport.</summary>
    public const long SettingEnableWebTransport = 0x2b603742;

    /// <summary>SETTINGS_WT_ENABLED of newer drafts; accepted as a sign of support, never required.</summary>
    public const long SettingWtEnabled = 0x2c7cf000;

    /// <summary>SETTINGS_WEBTRANSPORT_MAX_SESSIONS of draft-07; accepted as a sign of support, never required.</summary>
    public const long SettingWtMaxSessionsDraft07 = 0xc671706a;

    /// <summary>The draft-04 H3 datagram setting Chromium also sends; ignored like any unknown setting.</summary>
    public const long SettingH3DatagramDraft04 = 0xffd277;

    /// <summary>The unidirectional stream type of a WebTransport stream (draft-02 §4.1), followed by the session ID.</summary>
    public const long UnidirectionalStreamType = 0x54;

    /// <summary>The signal value opening a WebTransport bidirectional stream (draft-02 §4.2), followed by the session ID.</summary>
    public const long BidirectionalSignal = 0x41;

    /// <summary>The <c>:protocol</c> value of the extended CONNECT that opens a session (draft-02 §3.2).</summary>
    public const string ConnectProtocol = "webtransport";

    /// <summary>CLOSE_WEBTRANSPORT_SESSION capsule (draft-02 §5): 32-bit error code and a UTF-8 reason.</summary>
    public const long CloseSessionCapsule = 0x2843;

    /// <summary>DRAIN_WEBTRANSPORT_SESSION capsule: the peer asks for a graceful end.</summary>
    public const long DrainSessionCapsule = 0x78ae;

    /// <summary>The DATAGRAM capsule of RFC 9297 §3.5: a datagram carried on the CONNECT stream.</summary>
    public const long DatagramCapsule = 0x00;

    /// <summary>Longest close reason in bytes (draft-02 §5).</summary>
    public const int MaxCloseReasonLength = 1024;

    /// <summary>Stream error code used to reset a session's streams when it closes (WEBTRANSPORT_SESSION_GONE of later drafts).</summary>
    public const long SessionGoneErrorCode = 0x170d7b68;

    /// <summary>Stream error code for a stream refused because its session is unknown or over its limits (WEBTRANSPORT_BUFFERED_STREAM_REJECTED).</summary>
    public const long BufferedStreamRejectedErrorCode = 0x3994bd84;

    /// <summary>The request header Chromium sends with a draft-02 CONNECT.</summary>
    public const string Draft02RequestHeader = "sec-webtransport-http3-draft02";

    /// <summary>The response header conventionally sent when accepting a draft-02 session.</summary>
    public const string DraftResponseHeader = "sec-webtransport-http3-draft";
}
