using System.Security.Cryptography;
using Switchyard.Quic.Packets;
using Switchyard.Tls;
using Switchyard.Transport;

namespace Switchyard.Quic.Connection;

/// <summary>What a connection was configured with; shared by both ends.</summary>
internal sealed class ConnectionSettings
{
    public required bool IsServer { get; init; }

    /// <summary>Creates the TLS handshake given the callbacks and our encoded transport parameters.</summary>
    public required Func<IQuicTlsCallbacks, byte[], IQuicTlsHandshake> TlsFactory { get; init; }

    public long IdleTimeoutMicros { get; init; } = 30_000_000;

    public int MaxInboundBidiStreams { get; init; } = 100;

    public int MaxInboundUniStreams { get; init; } = 100;

    public int MaxDatagramFrameSize { get; init; } = 65535;

    public int StreamReceiveWindow { get; init; } = 1 << 20;

    public int ConnectionReceiveWindow { get; init; } = 16 << 20;

    /// <summary>Unacknowledged bytes a stream may hold before a writer waits.</summary>
    public int StreamSendBuffer { get; init; } = 1 << 20;

    /// <summary>The UDP payload size we send (RFC 9000 §14: at least 1200).</summary>
    public int MaxDatagramSize { get; init; } = 1200;

    /// <summary>Bounded queues for DATAGRAM frames (RFC 9221 §5: they are never buffered without bound).</summary>
    public int DatagramQueueLength { get; init; } = 128;

    /// <summary>Key for stateless reset tokens (RFC 9000 §10.3.2); the driver shares it across connections.</summary>
    public byte[] StatelessResetKey { get; init; } = RandomNumberGenerator.GetBytes(32);

    public int ConnectionIdLength { get; init; } = 8;

    /// <summary>Keys old 1-RTT read keys stay around after a key update, in PTOs (RFC 9001 §6.5).</summary>
    public int ActiveConnectionIdLimit { get; init; } = 4;

    public static ConnectionSettings From(QuicConnectionOptions options, bool isServer, Func<IQuicTlsCallbacks, byte[], IQuicTlsHandshake> tls) => new()
    {
        IsServer = isServer,
        TlsFactory = tls,
        IdleTimeoutMicros = (long)options.IdleTimeout.TotalMicroseconds,
        MaxInboundBidiStreams = options.MaxInboundBidirectionalStreams,
        MaxInboundUniStreams = options.MaxInboundUnidirectionalStreams,
        MaxDatagramFrameSize = options.MaxDatagramFrameSize,
        StreamReceiveWindow = options.StreamReceiveWindow,
        ConnectionReceiveWindow = options.ConnectionReceiveWindow,
    };
}

/// <summary>Callbacks from the sans-I/O connection to its driver. They run on the thread calling into the connection.</summary>
internal interface IConnectionEvents
{
    void OnHandshakeCompleted();

    void OnStreamOpened(QuicStreamStateRef stream);

    void OnStreamReadable(QuicStreamStateRef stream);

    void OnStreamWritable(QuicStreamStateRef stream);

    void OnStreamsAvailable();

    void OnDatagramReceived();

    /// <summary>The connection entered closing or draining, or timed out: no more application I/O.</summary>
    void OnClosed(QuicException error);

    void OnConnectionIdIssued(byte[] connectionId);

    void OnConnectionIdRetired(byte[] connectionId);

    /// <summary>This endpoint began sending with new 1-RTT keys because it started a key update (RFC 9001 §6.1).</summary>
    void OnKeyUpdateStarted();
}

/// <summary>A handle to a stream inside the connection, passed to events.</summary>
internal readonly record struct QuicStreamStateRef(long Id, object? Handle);

/// <summary>The connection's life (RFC 9000 §10).</summary>
internal enum ConnectionState
{
    Handshaking,
    Established,
    Closing,
    Draining,
    Terminated,
}

/// <summary>What a sent frame was, so it can be re-queued when lost or released when acknowledged (RFC 9000 §13.3).</summary>
internal enum SentFrameKind : byte
{
    Stream,
    Crypto,
    ResetStream,
    StopSending,
    MaxData,
    MaxStreamData,
    MaxStreamsBidi,
    MaxStreamsUni,
    DataBlocked,
    StreamDataBlocked,
    StreamsBlockedBidi,
    StreamsBlockedUni,
    NewConnectionId,
    RetireConnectionId,
    HandshakeDone,
    Ack,
    Ping,
    Datagram,
    PathChallenge,
    PathResponse,
    ConnectionClose,
}

internal struct SentFrame
{
    public SentFrameKind Kind;
    public bool Fin;
    public int Length;
    public long StreamId;
    public long Offset;
    public long Value;
}

/// <summary>The frames of one sent packet; the "frames token" handed to loss recovery. Pooled by the connection.</summary>
internal sealed class SentPacketFrames
{
    public List<SentFrame> Frames { get; } = new(8);
}

/// <summary>Stateless reset tokens (RFC 9000 §10.3) and HMAC-based derivation.</summary>
internal static class StatelessReset
{
    public const int TokenLength = 16;

    /// <summary>token = HMAC-SHA256(key, connection ID)[..16], so any instance with the key can recompute it (RFC 9000 §10.3.2).</summary>
    public static void ComputeToken(ReadOnlySpan<byte> key, ReadOnlySpan<byte> connectionId, Span<byte> token)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, connectionId, mac);
        mac[..TokenLength].CopyTo(token);
    }

    /// <summary>
    /// Writes a stateless reset answering a packet of <paramref name="triggerLength"/> bytes: it must be shorter than the
    /// trigger (to prevent loops) and at least 21 bytes (RFC 9000 §10.3). Returns 0 when no reset may be sent.
    /// </summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> key, ReadOnlySpan<byte> connectionId, int triggerLength)
    {
        var length = Math.Min(triggerLength - 1, 43);
        if (length < 21 || destination.Length < length)
        {
            return 0;
        }

        RandomNumberGenerator.Fill(destination[..(length - TokenLength)]);
        destination[0] = (byte)(0x40 | (destination[0] & 0x3f));
        ComputeToken(key, connectionId, destination.Slice(length - TokenLength, TokenLength));
        return length;
    }
}

/// <summary>
/// Address-validation tokens for Retry (RFC 9000 §8.1.2): AES-GCM over (issue time, client address, original DCID),
/// so any server instance with the key can check them without state.
/// </summary>
internal sealed class RetryTokenProtector : IDisposable
{
    private readonly AesGcm _aead;

    public RetryTokenProtector(byte[]? key = null) => _aead = new AesGcm(key ?? RandomNumberGenerator.GetBytes(16), 16);

    /// <summary>How long a Retry token stays valid.</summary>
    public long LifetimeMicros { get; init; } = 10_000_000;

    public byte[] Create(System.Net.IPEndPoint client, ReadOnlySpan<byte> originalDcid, ReadOnlySpan<byte> retryScid, long now)
    {
        Span<byte> plain = stackalloc byte[8 + 1 + 20 + 1 + 20];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(plain, now);
        plain[8] = (byte)originalDcid.Length;
        originalDcid.CopyTo(plain[9..]);
        plain[29] = (byte)retryScid.Length;
        retryScid.CopyTo(plain[30..]);
        var token = new byte[12 + plain.Length + 16];
        RandomNumberGenerator.Fill(token.AsSpan(0, 12));
        _aead.Encrypt(token.AsSpan(0, 12), plain, token.AsSpan(12, plain.Length), token.AsSpan(12 + plain.Length), AddressBytes(client));
        return token;
    }

    /// <summary>Checks a token; returns the original DCID and the Retry SCID, or false when it is invalid, stale or for another address.</summary>
    public bool TryValidate(ReadOnlySpan<byte> token, System.Net.IPEndPoint client, long now, out byte[] originalDcid, out byte[] retryScid)
    {
        originalDcid = [];
        retryScid = [];
        const int plainLength = 8 + 1 + 20 + 1 + 20;
        if (token.Length != 12 + plainLength + 16)
        {
            return false;
        }

        Span<byte> plain = stackalloc byte[plainLength];
        try
        {
            _aead.Decrypt(token[..12], token.Slice(12, plainLength), token[(12 + plainLength)..], plain, AddressBytes(client));
        }
        catch (CryptographicException)
        {
            return false;
        }

        var issued = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(plain);
        if (now - issued > LifetimeMicros || issued > now + 1_000_000 || plain[8] > 20 || plain[29] > 20)
        {
            return false;
        }

        originalDcid = plain.Slice(9, plain[8]).ToArray();
        retryScid = plain.Slice(30, plain[29]).ToArray();
        return true;
    }

    public void Dispose() => _aead.Dispose();

    private static byte[] AddressBytes(System.Net.IPEndPoint endPoint)
    {
        var address = endPoint.Address.GetAddressBytes();
        var result = new byte[address.Length + 2];
        address.CopyTo(result, 0);
        result[^2] = (byte)(endPoint.Port >> 8);
        result[^1] = (byte)endPoint.Port;
        return result;
    }
}

/// <summary>A connection ID the peer gave us (RFC 9000 §5.1.1).</summary>
internal sealed class PeerConnectionId
{
    public required long Sequence { get; init; }

    public required byte[] Id { get; init; }

    public byte[]? ResetToken { get; init; }
}
