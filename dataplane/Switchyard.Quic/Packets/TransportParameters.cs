using System.Net;

namespace Switchyard.Quic.Packets;

/// <summary>The server's preferred_address transport parameter (RFC 9000 §18.2).</summary>
internal sealed record PreferredAddress(IPEndPoint? IPv4, IPEndPoint? IPv6, byte[] ConnectionId, byte[] StatelessResetToken);

/// <summary>
/// QUIC transport parameters (RFC 9000 §18, RFC 9221 §3). Defaults are the RFC's defaults for absent parameters.
/// </summary>
internal sealed class TransportParameters
{
    private const long OriginalDestinationConnectionIdId = 0x00;
    private const long MaxIdleTimeoutId = 0x01;
    private const long StatelessResetTokenId = 0x02;
    private const long MaxUdpPayloadSizeId = 0x03;
    private const long InitialMaxDataId = 0x04;
    private const long InitialMaxStreamDataBidiLocalId = 0x05;
    private const long InitialMaxStreamDataBidiRemoteId = 0x06;
    private const long InitialMaxStreamDataUniId = 0x07;
    private const long InitialMaxStreamsBidiId = 0x08;
    private const long InitialMaxStreamsUniId = 0x09;
    private const long AckDelayExponentId = 0x0a;
    private const long MaxAckDelayId = 0x0b;
    private const long DisableActiveMigrationId = 0x0c;
    private const long PreferredAddressId = 0x0d;
    private const long ActiveConnectionIdLimitId = 0x0e;
    private const long InitialSourceConnectionIdId = 0x0f;
    private const long RetrySourceConnectionIdId = 0x10;
    private const long MaxDatagramFrameSizeId = 0x20;

    public byte[]? OriginalDestinationConnectionId { get; set; }

    /// <summary>Milliseconds; 0 means no idle timeout.</summary>
    public long MaxIdleTimeout { get; set; }

    public byte[]? StatelessResetToken { get; set; }

    public long MaxUdpPayloadSize { get; set; } = 65527;

    public long InitialMaxData { get; set; }

    public long InitialMaxStreamDataBidiLocal { get; set; }

    public long InitialMaxStreamDataBidiRemote { get; set; }

    public long InitialMaxStreamDataUni { get; set; }

    public long InitialMaxStreamsBidi { get; set; }

    public long InitialMaxStreamsUni { get; set; }

    public long AckDelayExponent { get; set; } = 3;

    /// <summary>Milliseconds.</summary>
    public long MaxAckDelay { get; set; } = 25;

    public bool DisableActiveMigration { get; set; }

    public PreferredAddress? PreferredAddress { get; set; }

    public long ActiveConnectionIdLimit { get; set; } = 2;

    public byte[]? InitialSourceConnectionId { get; set; }

    public byte[]? RetrySourceConnectionId { get; set; }

    /// <summary>0 when absent: the peer does not accept DATAGRAM frames (RFC 9221 §3).</summary>
    public long MaxDatagramFrameSize { get; set; }

    /// <summary>Encodes the parameters (RFC 9000 §18).</summary>
    public byte[] Encode()
    {
        var buffer = new byte[512];
        var writer = new QuicWriter(buffer);
        WriteBytes(ref writer, OriginalDestinationConnectionIdId, OriginalDestinationConnectionId);
        WriteInt(ref writer, MaxIdleTimeoutId, MaxIdleTimeout, 0);
        WriteBytes(ref writer, StatelessResetTokenId, StatelessResetToken);
        WriteInt(ref writer, MaxUdpPayloadSizeId, MaxUdpPayloadSize, 65527);
        WriteInt(ref writer, InitialMaxDataId, InitialMaxData, 0);
        WriteInt(ref writer, InitialMaxStreamDataBidiLocalId, InitialMaxStreamDataBidiLocal, 0);
        WriteInt(ref writer, InitialMaxStreamDataBidiRemoteId, InitialMaxStreamDataBidiRemote, 0);
        WriteInt(ref writer, InitialMaxStreamDataUniId, InitialMaxStreamDataUni, 0);
        WriteInt(ref writer, InitialMaxStreamsBidiId, InitialMaxStreamsBidi, 0);
        WriteInt(ref writer, InitialMaxStreamsUniId, InitialMaxStreamsUni, 0);
        WriteInt(ref writer, AckDelayExponentId, AckDelayExponent, 3);
        WriteInt(ref writer, MaxAckDelayId, MaxAckDelay, 25);
        if (DisableActiveMigration)
        {
            writer.WriteVarInt(DisableActiveMigrationId);
            writer.WriteVarInt(0);
        }

        if (PreferredAddress is { } preferred)
        {
            writer.WriteVarInt(PreferredAddressId);
            writer.WriteVarInt(4 + 2 + 16 + 2 + 1 + preferred.ConnectionId.Length + 16);
            WriteAddress(ref writer, preferred.IPv4, 4);
            WriteAddress(ref writer, preferred.IPv6, 16);
            writer.WriteByte((byte)preferred.ConnectionId.Length);
            writer.WriteBytes(preferred.ConnectionId);
            writer.WriteBytes(preferred.StatelessResetToken);
        }

        WriteInt(ref writer, ActiveConnectionIdLimitId, ActiveConnectionIdLimit, 2);
        WriteBytes(ref writer, InitialSourceConnectionIdId, InitialSourceConnectionId);
        WriteBytes(ref writer, RetrySourceConnectionIdId, RetrySourceConnectionId);
        WriteInt(ref writer, MaxDatagramFrameSizeId, MaxDatagramFrameSize, 0);
        return writer.Written.ToArray();
    }

    /// <summary>
    /// Decodes and validates the peer's parameters (RFC 9000 §18.2, §7.4). Errors are TRANSPORT_PARAMETER_ERROR.
    /// </summary>
    /// <param name="encoded">The extension body.</param>
    /// <param name="fromServer">True when the server sent them: only a server may send server-only parameters.</param>
    public static TransportParameters Decode(ReadOnlySpan<byte> encoded, bool fromServer)
    {
        var result = new TransportParameters();
        var reader = new QuicReader(encoded);

        // Bit i set once parameter id i (< 64) was seen: duplicates are an error (RFC 9000 §7.4).
        ulong seen = 0;
        while (!reader.End)
        {
            if (!reader.TryReadVarInt(out var id) || !reader.TryReadVarInt(out var length) || !reader.TryReadBytes(length, out var value))
            {
                throw Error("truncated transport parameter (RFC 9000 §18)");
            }

            if (id < 64)
            {
                if ((seen & (1UL << (int)id)) != 0)
                {
                    throw Error($"duplicate transport parameter 0x{id:x} (RFC 9000 §7.4)");
                }

                seen |= 1UL << (int)id;
            }

            switch (id)
            {
                case OriginalDestinationConnectionIdId:
                    RequireServer(fromServer, id);
                    result.OriginalDestinationConnectionId = ReadConnectionId(value, id);
                    break;
                case MaxIdleTimeoutId:
                    result.MaxIdleTimeout = ReadInt(value, id);
                    break;
                case StatelessResetTokenId:
                    RequireServer(fromServer, id);
                    if (value.Length != 16)
                    {
                        throw Error("stateless_reset_token must be 16 bytes (RFC 9000 §18.2)");
                    }

                    result.StatelessResetToken = value.ToArray();
                    break;
                case MaxUdpPayloadSizeId:
                    result.MaxUdpPayloadSize = ReadInt(value, id);
                    if (result.MaxUdpPayloadSize < 1200)
                    {
                        throw Error("max_udp_payload_size below 1200 (RFC 9000 §18.2)");
                    }

                    break;
                case InitialMaxDataId:
                    result.InitialMaxData = ReadInt(value, id);
                    break;
                case InitialMaxStreamDataBidiLocalId:
                    result.InitialMaxStreamDataBidiLocal = ReadInt(value, id);
                    break;
                case InitialMaxStreamDataBidiRemoteId:
                    result.InitialMaxStreamDataBidiRemote = ReadInt(value, id);
                    break;
                case InitialMaxStreamDataUniId:
                    result.InitialMaxStreamDataUni = ReadInt(value, id);
                    break;
                case InitialMaxStreamsBidiId:
                    result.InitialMaxStreamsBidi = ReadInt(value, id);
                    if (result.InitialMaxStreamsBidi > 1L << 60)
                    {
                        throw Error("initial_max_streams_bidi above 2^60 (RFC 9000 §18.2)");
                    }

                    break;
                case InitialMaxStreamsUniId:
                    result.InitialMaxStreamsUni = ReadInt(value, id);
                    if (result.InitialMaxStreamsUni > 1L << 60)
                    {
                        throw Error("initial_max_streams_uni above 2^60 (RFC 9000 §18.2)");
                    }

                    break;
                case AckDelayExponentId:
                    result.AckDelayExponent = ReadInt(value, id);
                    if (result.AckDelayExponent > 20)
                    {
                        throw Error("ack_delay_exponent above 20 (RFC 9000 §18.2)");
                    }

                    break;
                case MaxAckDelayId:
                    result.MaxAckDelay = ReadInt(value, id);
                    if (result.MaxAckDelay >= 1 << 14)
                    {
                        throw Error("max_ack_delay of 2^14 or more (RFC 9000 §18.2)");
                    }

                    break;
                case DisableActiveMigrationId:
                    if (!value.IsEmpty)
                    {
                        throw Error("disable_active_migration must be empty (RFC 9000 §18.2)");
                    }

                    result.DisableActiveMigration = true;
                    break;
                case PreferredAddressId:
                    RequireServer(fromServer, id);
                    result.PreferredAddress = ReadPreferredAddress(value);
                    break;
                case ActiveConnectionIdLimitId:
                    result.ActiveConnectionIdLimit = ReadInt(value, id);
                    if (result.ActiveConnectionIdLimit < 2)
                    {
                        throw Error("active_connection_id_limit below 2 (RFC 9000 §18.2)");
                    }

                    break;
                case InitialSourceConnectionIdId:
                    result.InitialSourceConnectionId = ReadConnectionId(value, id);
                    break;
                case RetrySourceConnectionIdId:
                    RequireServer(fromServer, id);
                    result.RetrySourceConnectionId = ReadConnectionId(value, id);
                    break;
                case MaxDatagramFrameSizeId:
                    result.MaxDatagramFrameSize = ReadInt(value, id);
                    break;
                default:
                    // Unknown parameters, GREASE included, are ignored (RFC 9000 §18.1).
                    break;
            }
        }

        if (result.InitialSourceConnectionId is null)
        {
            throw Error("initial_source_connection_id missing (RFC 9000 §7.3)");
        }

        if (fromServer && result.OriginalDestinationConnectionId is null)
        {
            throw Error("original_destination_connection_id missing (RFC 9000 §7.3)");
        }

        return result;
    }

    /// <summary>
    /// Checks the connection IDs the handshake authenticated against those seen on the wire (RFC 9000 §7.3).
    /// </summary>
    /// <param name="peerSourceCid">The source connection ID of the peer's first Initial packet.</param>
    /// <param name="originalDestinationCid">Client: the DCID of its first Initial. Server: unused.</param>
    /// <param name="retrySourceCid">Client: the SCID of the Retry it accepted, or null when none.</param>
    /// <param name="peerIsServer">True when validating the server's parameters.</param>
    public void ValidateConnectionIds(ReadOnlySpan<byte> peerSourceCid, ReadOnlySpan<byte> originalDestinationCid, byte[]? retrySourceCid, bool peerIsServer)
    {
        if (!peerSourceCid.SequenceEqual(InitialSourceConnectionId))
        {
            throw Error("initial_source_connection_id does not match the packet's source connection ID (RFC 9000 §7.3)");
        }

        if (!peerIsServer)
        {
            return;
        }

        if (!originalDestinationCid.SequenceEqual(OriginalDestinationConnectionId))
        {
            throw Error("original_destination_connection_id does not match (RFC 9000 §7.3)");
        }

        if (retrySourceCid is null ? RetrySourceConnectionId is not null : RetrySourceConnectionId is null || !retrySourceCid.AsSpan().SequenceEqual(RetrySourceConnectionId))
        {
            throw Error("retry_source_connection_id does not match the Retry (RFC 9000 §7.3)");
        }
    }

    private static QuicTransportErrorException Error(string message) => new(TransportErrorCode.TransportParameterError, message);

    private static void RequireServer(bool fromServer, long id)
    {
        if (!fromServer)
        {
            throw Error($"a client sent server-only transport parameter 0x{id:x} (RFC 9000 §18.2)");
        }
    }

    private static long ReadInt(ReadOnlySpan<byte> value, long id)
    {
        if (!VarInt.TryRead(value, out var result, out var consumed) || consumed != value.Length)
        {
            throw Error($"transport parameter 0x{id:x} is not one varint (RFC 9000 §18)");
        }

        return result;
    }

    private static byte[] ReadConnectionId(ReadOnlySpan<byte> value, long id)
    {
        if (value.Length > PacketHeader.MaxConnectionIdLength)
        {
            throw Error($"connection ID in transport parameter 0x{id:x} longer than 20 bytes (RFC 9000 §18.2)");
        }

        return value.ToArray();
    }

    private static PreferredAddress ReadPreferredAddress(ReadOnlySpan<byte> value)
    {
        var reader = new QuicReader(value);
        if (!reader.TryReadBytes(4, out var v4) || !reader.TryReadUInt16(out var v4Port)
            || !reader.TryReadBytes(16, out var v6) || !reader.TryReadUInt16(out var v6Port)
            || !reader.TryReadByte(out var cidLength) || !reader.TryReadBytes(cidLength, out var cid)
            || !reader.TryReadBytes(16, out var token) || !reader.End)
        {
            throw Error("malformed preferred_address (RFC 9000 §18.2)");
        }

        if (cidLength is 0 or > PacketHeader.MaxConnectionIdLength)
        {
            throw Error("preferred_address connection ID length must be 1..20 (RFC 9000 §18.2)");
        }

        var ipv4 = v4.IndexOfAnyExcept((byte)0) < 0 && v4Port == 0 ? null : new IPEndPoint(new IPAddress(v4), v4Port);
        var ipv6 = v6.IndexOfAnyExcept((byte)0) < 0 && v6Port == 0 ? null : new IPEndPoint(new IPAddress(v6), v6Port);
        return new PreferredAddress(ipv4, ipv6, cid.ToArray(), token.ToArray());
    }

    private static void WriteAddress(ref QuicWriter writer, IPEndPoint? endPoint, int length)
    {
        if (endPoint is null)
        {
            writer.Buffer.Slice(writer.Position, length + 2).Clear();
            writer.Advance(length + 2);
            return;
        }

        endPoint.Address.TryWriteBytes(writer.Buffer[writer.Position..], out var written);
        writer.Advance(written);
        writer.WriteUInt16((ushort)endPoint.Port);
    }

    private static void WriteInt(ref QuicWriter writer, long id, long value, long defaultValue)
    {
        if (value == defaultValue)
        {
            return;
        }

        writer.WriteVarInt(id);
        writer.WriteVarInt(VarInt.GetLength(value));
        writer.WriteVarInt(value);
    }

    private static void WriteBytes(ref QuicWriter writer, long id, byte[]? value)
    {
        if (value is null)
        {
            return;
        }

        writer.WriteVarInt(id);
        writer.WriteVarInt(value.Length);
        writer.WriteBytes(value);
    }
}
