using System.Net;
using System.Security.Cryptography;
using Switchyard.Quic.Packets;
using Switchyard.Quic.Protection;

namespace Switchyard.Quic.Connection;

/// <summary>Compares connection IDs by value, and lets a span be looked up without allocating.</summary>
internal sealed class ConnectionIdComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ConnectionIdComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj) => GetHashCode(obj.AsSpan());

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        var hash = default(HashCode);
        hash.AddBytes(alternate);
        return hash.ToHashCode();
    }

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}

/// <summary>
/// The server side of one UDP endpoint, still sans-I/O: routes datagrams to connections by destination connection ID,
/// creates connections for new Initials, and answers statelessly with Version Negotiation (RFC 9000 §6), Retry (§8.1.2)
/// and stateless reset (§10.3).
/// </summary>
internal sealed class QuicServerEndpoint : IDisposable
{
    private readonly Func<ConnectionSettings> _settings;
    private readonly Dictionary<byte[], QuicConnection> _byId = new(ConnectionIdComparer.Instance);
    private readonly Dictionary<byte[], QuicConnection>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly List<QuicConnection> _connections = new();
    private readonly Queue<(byte[] Datagram, IPEndPoint To)> _stateless = new();
    private readonly RetryTokenProtector _tokens = new();
    private readonly byte[] _resetKey;
    private int _sendCursor;
    private QuicConnection? _lastReceiver;

    public QuicServerEndpoint(Func<ConnectionSettings> settings, byte[] statelessResetKey)
    {
        _settings = settings;
        _resetKey = statelessResetKey;
        _lookup = _byId.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Send every new client a Retry first (RFC 9000 §8.1.2).</summary>
    public bool RequireRetry { get; init; }

    /// <summary>Most connections still handshaking; new Initials beyond it are dropped.</summary>
    public int Backlog { get; init; } = 512;

    /// <summary>Called for each new connection; returns the events sink for it.</summary>
    public Func<QuicConnection, IConnectionEvents>? ConnectionCreated { get; set; }

    public IReadOnlyList<QuicConnection> Connections => _connections;

    public long RetriesSent { get; private set; }

    public long VersionNegotiationsSent { get; private set; }

    public long StatelessResetsSent { get; private set; }

    public long? NextDeadline
    {
        get
        {
            long? next = _stateless.Count > 0 ? 0 : null;
            foreach (var connection in _connections)
            {
                if (connection.NextDeadline is { } deadline && (next is null || deadline < next))
                {
                    next = deadline;
                }
            }

            return next;
        }
    }

    /// <summary>True when the connection the last datagram reached owes an ACK at once (RFC 9000 §13.2.1, §13.2.2).</summary>
    public bool HasUrgentSend => _lastReceiver is { IsAckUrgent: true };

    public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now)
    {
        _lastReceiver = null;
        if (!PacketHeader.TryParse(datagram, _settings().ConnectionIdLength, out var header))
        {
            return;
        }

        var dcid = datagram.Slice(header.DestinationCidOffset, header.DestinationCidLength);
        if (_lookup.TryGetValue(dcid, out var connection))
        {
            connection.Receive(datagram, from, now);
            _lastReceiver = connection;
            return;
        }

        if (!header.IsLongHeader)
        {
            // An unknown short-header packet: perhaps we lost the state; tell the peer (RFC 9000 §10.3).
            if (_stateless.Count < 64)
            {
                var reset = new byte[43];
                var length = StatelessReset.Write(reset, _resetKey, dcid, datagram.Length);
                if (length > 0)
                {
                    _stateless.Enqueue((reset[..length], from));
                    StatelessResetsSent++;
                }
            }

            return;
        }

        // A server drops Initials in datagrams under 1200 bytes (RFC 9000 §14.1).
        if (header.Type != PacketType.Initial || datagram.Length < 1200)
        {
            return;
        }

        var scid = datagram.Slice(header.SourceCidOffset, header.SourceCidLength);
        if (header.Version != PacketHeader.Version1)
        {
            if (_stateless.Count < 64 && header.DestinationCidLength <= 255)
            {
                var buffer = new byte[7 + scid.Length + dcid.Length + 8];
                var length = PacketHeader.WriteVersionNegotiation(buffer, (byte)RandomNumberGenerator.GetInt32(256), scid, dcid, [PacketHeader.Version1, 0x0a0a0a0a]);
                _stateless.Enqueue((buffer[..length], from));
                VersionNegotiationsSent++;
            }

            return;
        }

        if (dcid.Length < 8 || CountHandshaking() >= Backlog)
        {
            // RFC 9000 §7.2: a client's first DCID is at least 8 bytes.
            return;
        }

        byte[]? originalDcid = null;
        var token = datagram.Slice(header.TokenOffset, header.TokenLength);
        if (RequireRetry)
        {
            if (token.IsEmpty)
            {
                SendRetry(dcid, scid, from, now);
                return;
            }

            if (!_tokens.TryValidate(token, from, now, out originalDcid, out var retryScid) || !dcid.SequenceEqual(retryScid))
            {
                return;
            }
        }

        var settings = _settings();
        connection = QuicConnection.CreateServer(settings, from, dcid, scid, originalDcid, now);
        _connections.Add(connection);
        connection.Events = new RoutingEvents(this, connection, ConnectionCreated?.Invoke(connection));
        _byId[dcid.ToArray()] = connection;
        foreach (var id in connection.LocalConnectionIds)
        {
            _byId[id] = connection;
        }

        connection.Receive(datagram, from, now);
        _lastReceiver = connection;
    }

    private int CountHandshaking()
    {
        var count = 0;
        foreach (var connection in _connections)
        {
            if (connection.State == ConnectionState.Handshaking)
            {
                count++;
            }
        }

        return count;
    }

    private void SendRetry(ReadOnlySpan<byte> clientDcid, ReadOnlySpan<byte> clientScid, IPEndPoint from, long now)
    {
        if (_stateless.Count >= 64)
        {
            return;
        }

        // Retry (RFC 9000 §17.2.5): our new SCID, the token, then the integrity tag over the pseudo-packet (RFC 9001 §5.8).
        var retryScid = RandomNumberGenerator.GetBytes(8);
        var token = _tokens.Create(from, clientDcid, retryScid, now);
        var packet = new byte[7 + clientScid.Length + retryScid.Length + token.Length + 16];
        var writer = new QuicWriter(packet);
        writer.WriteByte((byte)(0xf0 | RandomNumberGenerator.GetInt32(16)));
        writer.WriteUInt32(PacketHeader.Version1);
        writer.WriteByte((byte)clientScid.Length);
        writer.WriteBytes(clientScid);
        writer.WriteByte((byte)retryScid.Length);
        writer.WriteBytes(retryScid);
        writer.WriteBytes(token);
        InitialProtection.ComputeRetryTag(clientDcid, packet.AsSpan(0, writer.Position), packet.AsSpan(writer.Position));
        _stateless.Enqueue((packet, from));
        RetriesSent++;
    }

    public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now)
    {
        if (_stateless.TryDequeue(out var item))
        {
            item.Datagram.CopyTo(buffer);
            length = item.Datagram.Length;
            to = item.To;
            return true;
        }

        for (var i = 0; i < _connections.Count; i++)
        {
            var index = (_sendCursor + i) % _connections.Count;
            if (_connections[index].TrySend(buffer, out length, out to, now))
            {
                _sendCursor = index + 1;
                return true;
            }
        }

        length = 0;
        to = null!;
        return false;
    }

    public void OnDeadline(long now)
    {
        for (var i = _connections.Count - 1; i >= 0; i--)
        {
            var connection = _connections[i];
            if (connection.NextDeadline is { } deadline && deadline <= now)
            {
                connection.OnDeadline(now);
            }

            if (connection.State == ConnectionState.Terminated)
            {
                Remove(connection);
            }
        }
    }

    private void Remove(QuicConnection connection)
    {
        _connections.Remove(connection);
        if (_lastReceiver == connection)
        {
            _lastReceiver = null;
        }

        var stale = new List<byte[]>();
        foreach (var (id, owner) in _byId)
        {
            if (owner == connection)
            {
                stale.Add(id);
            }
        }

        foreach (var id in stale)
        {
            _byId.Remove(id);
        }
    }

    public void Dispose() => _tokens.Dispose();

    /// <summary>Keeps the routing table in step with the connection's IDs, then passes events on.</summary>
    private sealed class RoutingEvents(QuicServerEndpoint endpoint, QuicConnection connection, IConnectionEvents? inner) : IConnectionEvents
    {
        public void OnConnectionIdIssued(byte[] connectionId)
        {
            endpoint._byId[connectionId] = connection;
            inner?.OnConnectionIdIssued(connectionId);
        }

        public void OnConnectionIdRetired(byte[] connectionId)
        {
            endpoint._byId.Remove(connectionId);
            inner?.OnConnectionIdRetired(connectionId);
        }

        public void OnHandshakeCompleted() => inner?.OnHandshakeCompleted();

        public void OnStreamOpened(QuicStreamStateRef stream) => inner?.OnStreamOpened(stream);

        public void OnStreamReadable(QuicStreamStateRef stream) => inner?.OnStreamReadable(stream);

        public void OnStreamWritable(QuicStreamStateRef stream) => inner?.OnStreamWritable(stream);

        public void OnStreamsAvailable() => inner?.OnStreamsAvailable();

        public void OnDatagramReceived() => inner?.OnDatagramReceived();

        public void OnClosed(Transport.QuicException error) => inner?.OnClosed(error);

        public void OnKeyUpdateStarted() => inner?.OnKeyUpdateStarted();
    }
}
