namespace Switchyard.Http3.Frames;

/// <summary>HTTP/3 frame types (RFC 9114 §7.2, §11.2.1).</summary>
public enum Http3FrameType : long
{
    /// <summary>DATA (§7.2.1): message content.</summary>
    Data = 0x00,

    /// <summary>HEADERS (§7.2.2): a QPACK-encoded field section.</summary>
    Headers = 0x01,

    /// <summary>CANCEL_PUSH (§7.2.3).</summary>
    CancelPush = 0x03,

    /// <summary>SETTINGS (§7.2.4).</summary>
    Settings = 0x04,

    /// <summary>PUSH_PROMISE (§7.2.5).</summary>
    PushPromise = 0x05,

    /// <summary>GOAWAY (§7.2.6).</summary>
    GoAway = 0x07,

    /// <summary>MAX_PUSH_ID (§7.2.7).</summary>
    MaxPushId = 0x0d,
}

/// <summary>HTTP/3 unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2).</summary>
public enum Http3StreamType : long
{
    /// <summary>The control stream (§6.2.1).</summary>
    Control = 0x00,

    /// <summary>A push stream (§6.2.2).</summary>
    Push = 0x01,

    /// <summary>The QPACK encoder stream (RFC 9204 §4.2).</summary>
    QpackEncoder = 0x02,

    /// <summary>The QPACK decoder stream (RFC 9204 §4.2).</summary>
    QpackDecoder = 0x03,
}

/// <summary>SETTINGS identifiers this stack knows (RFC 9114 §7.2.4.1, RFC 9204 §5, RFC 9220 §3, RFC 9297 §2.1.1).</summary>
public static class Http3SettingId
{
    /// <summary>SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204 §5).</summary>
    public const long QpackMaxTableCapacity = 0x01;

    /// <summary>SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §7.2.4.1).</summary>
    public const long MaxFieldSectionSize = 0x06;

    /// <summary>SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §5).</summary>
    public const long QpackBlockedStreams = 0x07;

    /// <summary>SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220 §3).</summary>
    public const long EnableConnectProtocol = 0x08;

    /// <summary>SETTINGS_H3_DATAGRAM (RFC 9297 §2.1.1).</summary>
    public const long H3Datagram = 0x33;

    /// <summary>True for identifiers reserved because HTTP/2 used them (RFC 9114 §7.2.4.1, §11.2.2): receiving one is H3_SETTINGS_ERROR.</summary>
    public static bool IsReservedHttp2Setting(long id) => id is 0x00 or 0x02 or 0x03 or 0x04 or 0x05;
}
