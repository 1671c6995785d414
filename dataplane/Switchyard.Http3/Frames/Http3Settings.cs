using System.Buffers;

namespace Switchyard.Http3.Frames;

/// <summary>The parameters a peer sent in its SETTINGS frame (RFC 9114 §7.2.4), with the defaults for those it left out.</summary>
public sealed class Http3Settings
{
    private readonly Dictionary<long, long> _values;

    private Http3Settings(Dictionary<long, long> values)
    {
        _values = values;
    }

    /// <summary>Settings as if the peer had sent an empty SETTINGS frame.</summary>
    public static Http3Settings Default { get; } = new(new Dictionary<long, long>());

    /// <summary>Every identifier/value pair received, known or not.</summary>
    public IReadOnlyDictionary<long, long> Values => _values;

    /// <summary>SETTINGS_QPACK_MAX_TABLE_CAPACITY, default 0 (RFC 9204 §5).</summary>
    public long QpackMaxTableCapacity => Get(Http3SettingId.QpackMaxTableCapacity, 0);

    /// <summary>SETTINGS_QPACK_BLOCKED_STREAMS, default 0 (RFC 9204 §5).</summary>
    public long QpackBlockedStreams => Get(Http3SettingId.QpackBlockedStreams, 0);

    /// <summary>SETTINGS_MAX_FIELD_SECTION_SIZE, default unlimited (RFC 9114 §7.2.4.1).</summary>
    public long MaxFieldSectionSize => Get(Http3SettingId.MaxFieldSectionSize, long.MaxValue);

    /// <summary>True when the peer sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 9220 §3).</summary>
    public bool EnableConnectProtocol => Get(Http3SettingId.EnableConnectProtocol, 0) == 1;

    /// <summary>True when the peer sent SETTINGS_H3_DATAGRAM = 1 (RFC 9297 §2.1.1).</summary>
    public bool H3Datagram => Get(Http3SettingId.H3Datagram, 0) == 1;

    /// <summary>The value of <paramref name="id"/>, or <paramref name="defaultValue"/> when absent.</summary>
    public long Get(long id, long defaultValue) => _values.TryGetValue(id, out long v) ? v : defaultValue;

    /// <summary>
    /// Parses a SETTINGS payload. Unknown identifiers are kept but carry no meaning (§7.2.4.1: they MUST be ignored).
    /// </summary>
    /// <exception cref="Http3ConnectionException">
    /// H3_SETTINGS_ERROR for a duplicate or HTTP/2-reserved identifier or an invalid value (§7.2.4, §7.2.4.1,
    /// RFC 9220 §3, RFC 9297 §2.1.1); H3_FRAME_ERROR for a truncated pair (§7.1).
    /// </exception>
    public static Http3Settings Parse(ReadOnlySequence<byte> payload)
    {
        var values = new Dictionary<long, long>();
        var reader = new SequenceReader<byte>(payload);
        while (!reader.End)
        {
            if (!VariableLengthInteger.TryRead(ref reader, out long id) || !VariableLengthInteger.TryRead(ref reader, out long value))
            {
                throw new Http3ConnectionException(Http3ErrorCode.FrameError, "SETTINGS payload ends inside an identifier/value pair (RFC 9114 §7.1, §7.2.4).");
            }

            if (Http3SettingId.IsReservedHttp2Setting(id))
            {
                throw new Http3ConnectionException(Http3ErrorCode.SettingsError, $"SETTINGS identifier 0x{id:x} is reserved from HTTP/2 (RFC 9114 §7.2.4.1).");
            }

            if (!values.TryAdd(id, value))
            {
                throw new Http3ConnectionException(Http3ErrorCode.SettingsError, $"SETTINGS identifier 0x{id:x} appears twice (RFC 9114 §7.2.4).");
            }

            if (id == Http3SettingId.EnableConnectProtocol && value > 1)
            {
                throw new Http3ConnectionException(Http3ErrorCode.SettingsError, $"SETTINGS_ENABLE_CONNECT_PROTOCOL must be 0 or 1, got {value} (RFC 9220 §3).");
            }

            if (id == Http3SettingId.H3Datagram && value > 1)
            {
                throw new Http3ConnectionException(Http3ErrorCode.SettingsError, $"SETTINGS_H3_DATAGRAM must be 0 or 1, got {value} (RFC 9297 §2.1.1).");
            }
        }

        return new Http3Settings(values);
    }
}
