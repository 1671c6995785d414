using System.Net;
using System.Security.Cryptography;
using Switchyard.Quic.Frames;
using Switchyard.Quic.Packets;
using Switchyard.Quic.Protection;
using Switchyard.Quic.Recovery;
using Switchyard.Quic.Streams;
using Switchyard.Tls;
using Switchyard.Transport;

namespace Switchyard.Quic.Connection;

/// <summary>
/// One QUIC v1 connection as a sans-I/O state machine (DESIGN.md, "The shape of the QUIC stack"): it takes datagrams,
/// application commands and the time, and gives datagrams, events and its next deadline. It owns no socket, timer or
/// thread, and must only be called by one thread at a time.
/// </summary>
internal sealed partial class QuicConnection : IQuicTlsCallbacks, IRecoveryEvents
{
    private const int InitialSpace = 0;
    private const int HandshakeSpace = 1;
    private const int AppSpace = 2;
    private const int CryptoReceiveLimit = 64 * 1024;
    private const int TagLength = PacketProtection.TagLength;

    // The driver's timer wakes in whole milliseconds (poll(2)); the pacer lets what the rate earns in twice that go in
    // one burst, so pacing neither spins the loop nor caps the rate at one bucket per wake-up (RFC 9002 §7.7).
    private const long PacingBurstIntervalMicros = 2_000;

    private readonly ConnectionSettings _settings;
    private readonly bool _isServer;
    private readonly IQuicTlsHandshake _tls;
    private readonly LossRecovery _recovery;
    private readonly Pacer _pacer;
    private readonly ReceivedPacketTracker[] _trackers = new ReceivedPacketTracker[3];
    private readonly PacketProtection?[] _readKeys = new PacketProtection?[3];
    private readonly PacketProtection?[] _writeKeys = new PacketProtection?[3];
    private readonly bool[] _discarded = new bool[3];
    private readonly long[] _nextPacketNumber = new long[3];
    private readonly long[] _largestReceived = [-1, -1, -1];
    private readonly SendBuffer[] _cryptoSend = [new(1 << 20), new(1 << 20), new(1 << 20)];
    private readonly ReceiveBuffer[] _cryptoReceive = [new(), new(), new()];
    private readonly int[] _probes = new int[3];
    private readonly PendingPacket[] _pending = new PendingPacket[3];
    private readonly Stack<SentPacketFrames> _framesPool = new();
    private readonly AckRange[] _ackRanges = new AckRange[64];
    private readonly AckRangeValue[] _ackRangeValues = new AckRangeValue[64];
    private byte[] _receiveScratch = new byte[2048];

    // Connection IDs (RFC 9000 §5.1).
    private readonly List<(long Sequence, byte[] Id)> _localIds = new();
    private readonly List<PeerConnectionId> _peerIds = new();
    private readonly Queue<long> _retireQueue = new();
    private readonly Queue<(long Sequence, byte[] Id)> _newIdQueue = new();
    private long _nextLocalSequence;
    private long _peerRetirePriorTo;
    private byte[] _peerCid;
    private readonly byte[] _originalDcid;
    private byte[]? _retrySourceCid;
    private byte[]? _retryToken;
    private byte[]? _peerInitialScid;
    private bool _receivedFromPeer;

    // 1-RTT key update (RFC 9001 §6).
    private PacketProtection? _appReadNext;
    private PacketProtection? _appReadPrevious;
    private long _previousKeysDiscardAt = long.MaxValue;
    private bool _readKeyPhase;
    private bool _writeKeyPhase;
    private long _firstPacketInWritePhase;
    private long _firstPacketInReadPhase;
    private bool _keyUpdatePending;

    // Path and address validation (RFC 9000 §8, §9).
    private IPEndPoint _remote;
    private bool _addressValidated;
    private byte[]? _pathChallenge;
    private bool _pathChallengePending;
    private long _pathValidationDeadline = long.MaxValue;
    private byte[]? _pathResponse;

    // Flow control (RFC 9000 §4).
    private long _peerMaxData;
    private long _sentData;
    private long _localMaxData;
    private long _receivedData;
    private long _consumedData;
    private bool _maxDataPending;
    private long _dataBlockedAt = -1;
    private long _dataBlockedSentAt = -1;
    private long _peerMaxStreamsBidi;
    private long _peerMaxStreamsUni;
    private long _localMaxStreamsBidi;
    private long _localMaxStreamsUni;
    private bool _maxStreamsBidiPending;
    private bool _maxStreamsUniPending;
    private long _openedLocalBidi;
    private long _openedLocalUni;
    private long _openedPeerBidi;
    private long _openedPeerUni;
    private long _closedPeerBidi;
    private long _closedPeerUni;
    private long _streamsBlockedBidiAt = -1;
    private long _streamsBlockedUniAt = -1;
    private readonly Dictionary<long, QuicStreamState> _streams = new();
    private readonly LinkedList<QuicStreamState> _sendQueue = new();
    private readonly HashSet<long> _queuedStreams = new();
    private readonly Queue<long> _acceptQueue = new();

    // Datagrams (RFC 9221).
    private readonly Queue<byte[]> _datagramsOut = new();
    private readonly Queue<byte[]> _datagramsIn = new();

    // Life cycle.
    private TransportParameters? _peerParameters;
    private bool _handshakeComplete;
    private bool _handshakeConfirmed;
    private bool _handshakeDonePending;
    private long _idleTimeoutMicros;
    private long _idleDeadline = long.MaxValue;
    private long _closeDeadline = long.MaxValue;
    private bool _closeSendPending;
    private long _closeErrorCode;
    private long _closeFrameType;
    private bool _closeIsApplication;
    private string _closeReason = string.Empty;
    private bool _ackElicitingSentSinceReceive;
    private long _peerAckDelayExponent = 3;

    private QuicConnection(ConnectionSettings settings, IPEndPoint remote, byte[] localCid, byte[] peerCid, byte[] originalDcid, long now)
    {
        _settings = settings;
        _isServer = settings.IsServer;
        _remote = remote;
        _peerCid = peerCid;
        _originalDcid = originalDcid;
        _localIds.Add((_nextLocalSequence++, localCid));
        _recovery = new LossRecovery(new NewRenoCongestionController(settings.MaxDatagramSize));
        _pacer = new Pacer(_recovery.CongestionController, _recovery.Rtt, burstIntervalMicros: PacingBurstIntervalMicros);
        for (var i = 0; i < 3; i++)
        {
            _trackers[i] = new ReceivedPacketTracker((PacketNumberSpace)i, i == AppSpace ? ReceivedPacketTracker.DefaultMaxAckDelayMicros : 0);
        }

        _localMaxData = settings.ConnectionReceiveWindow;
        _localMaxStreamsBidi = settings.MaxInboundBidiStreams;
        _localMaxStreamsUni = settings.MaxInboundUniStreams;
        _idleTimeoutMicros = settings.IdleTimeoutMicros;
        _idleDeadline = _idleTimeoutMicros > 0 ? now + _idleTimeoutMicros : long.MaxValue;
        _tls = null!;
    }

    private QuicConnection(ConnectionSettings settings, IPEndPoint remote, byte[] localCid, byte[] peerCid, byte[] originalDcid, long now, Func<QuicConnection, IQuicTlsHandshake> tls)
        : this(settings, remote, localCid, peerCid, originalDcid, now) => _tls = tls(this);

    /// <summary>The connection's state (RFC 9000 §10).</summary>
    public ConnectionState State { get; private set; }

    public bool IsServer => _isServer;

    public IConnectionEvents Events { get; set; } = NullEvents.Instance;

    public IPEndPoint RemoteEndPoint => _remote;

    public bool IsHandshakeComplete => _handshakeComplete;

    public bool IsHandshakeConfirmed => _handshakeConfirmed;

    public string? NegotiatedApplicationProtocol => _tls.NegotiatedApplicationProtocol;

    public string? ServerName => _tls.ServerName;

    public System.Security.Cryptography.X509Certificates.X509Certificate2? PeerCertificate => _tls.PeerCertificate;

    /// <summary>Why the connection closed, once it has.</summary>
    public QuicException? CloseError { get; private set; }

    /// <summary>Our connection IDs in use (for routing by the driver).</summary>
    public IEnumerable<byte[]> LocalConnectionIds => _localIds.Select(x => x.Id);

    /// <summary>The destination connection ID the client chose for its first Initial (server: used for routing until it switches).</summary>
    public byte[] OriginalDestinationConnectionId => _originalDcid;

    public LossRecovery Recovery => _recovery;

    // :: Counters, so tests and metrics can observe the protocol's behaviour.
    public long PacketsSent { get; private set; }

    public long PacketsReceived { get; private set; }

    public long PacketsLost { get; private set; }

    public long BytesSent { get; private set; }

    public long BytesReceived { get; private set; }

    /// <summary>Bytes received from the peer's address before it was validated (RFC 9000 §8).</summary>
    public long UnvalidatedBytesReceived { get; private set; }

    /// <summary>Bytes sent before the peer's address was validated: never more than 3× <see cref="UnvalidatedBytesReceived"/>.</summary>
    public long UnvalidatedBytesSent { get; private set; }

    /// <summary>Times sending stopped at the anti-amplification limit.</summary>
    public long AmplificationLimitedCount { get; private set; }

    public bool IsAddressValidated => _addressValidated;

    /// <summary>Times the peer's 1-RTT packets moved to a new key phase (RFC 9001 §6.2), whoever started the update.</summary>
    public long KeyUpdateCount { get; private set; }

    public bool CurrentKeyPhase => _writeKeyPhase;

    public long PathValidationsSucceeded { get; private set; }

    /// <summary>Key updates this endpoint started (RFC 9001 §6.1); <see cref="KeyUpdateCount"/> counts read-key changes.</summary>
    public long KeyUpdatesInitiated { get; private set; }

    /// <summary>Ack-eliciting packets received and processed, in all packet number spaces (RFC 9000 §13.2.1).</summary>
    public long AckElicitingPacketsReceived { get; private set; }

    /// <summary>ACK frames sent, in all packet number spaces.</summary>
    public long AckFramesSent { get; private set; }

    /// <summary>
    /// True when an ACK frame is owed without delay (RFC 9000 §13.2.1, §13.2.2): an ack-eliciting Initial or Handshake
    /// packet, an ack-eliciting packet out of order or after a gap, or the second ack-eliciting packet since the last
    /// ACK. A driver that receives datagrams in batches checks this after each one and sends before reading on, so a
    /// batch of 60 packets yields 30 ACKs rather than one.
    /// </summary>
    public bool IsAckUrgent
    {
        get
        {
            if (State is not (ConnectionState.Handshaking or ConnectionState.Established))
            {
                return false;
            }

            for (var i = 0; i < 3; i++)
            {
                if (!_discarded[i] && _writeKeys[i] is not null && (i != AppSpace || _handshakeComplete) && _trackers[i].HasAckToSend && _trackers[i].ShouldSendAckNow)
                {
                    return true;
                }
            }

            return false;
        }
    }

    public long StatelessResetsDetected { get; private set; }

    /// <summary>The time of the next timer event, or null when there is none (RFC 9002 §6.2, RFC 9000 §10).</summary>
    public long? NextDeadline
    {
        get
        {
            if (State == ConnectionState.Terminated)
            {
                return null;
            }

            var deadline = Math.Min(_idleDeadline, _closeDeadline);
            if (State is ConnectionState.Closing or ConnectionState.Draining)
            {
                return deadline;
            }

            if (_recovery.LossDetectionDeadline is { } loss)
            {
                deadline = Math.Min(deadline, loss);
            }

            var amplificationBlocked = _isServer && !_addressValidated && _recovery.AtAntiAmplificationLimit;
            for (var i = 0; i < 3 && !amplificationBlocked; i++)
            {
                if (!_discarded[i] && _writeKeys[i] is not null && (i != AppSpace || _handshakeComplete) && _trackers[i].HasAckToSend && _trackers[i].AckDeadline is { } ack)
                {
                    deadline = Math.Min(deadline, ack);
                }
            }

            deadline = Math.Min(deadline, Math.Min(_pathValidationDeadline, _previousKeysDiscardAt));
            deadline = Math.Min(deadline, _pacingDeadline);
            return deadline == long.MaxValue ? null : deadline;
        }
    }

    /// <summary>Creates a client connection and writes its first Initial into the send queue (RFC 9000 §7).</summary>
    public static QuicConnection CreateClient(ConnectionSettings settings, IPEndPoint remote, long now)
    {
        var scid = RandomNumberGenerator.GetBytes(settings.ConnectionIdLength);
        var dcid = RandomNumberGenerator.GetBytes(8);
        var connection = new QuicConnection(settings, remote, scid, dcid, dcid, now, c =>
        {
            var parameters = c.LocalParameters(scid);
            return settings.TlsFactory(c, parameters.Encode());
        });
        connection.InstallInitialKeys(dcid);
        connection._tls.Start();
        return connection;
    }

    /// <summary>
    /// Creates a server connection for a client's first Initial.
    /// </summary>
    /// <param name="settings">Settings.</param>
    /// <param name="remote">The client's address.</param>
    /// <param name="clientDcid">The DCID of the client's Initial (after a Retry, our Retry's SCID).</param>
    /// <param name="clientScid">The SCID of the client's Initial.</param>
    /// <param name="originalDcidFromRetryToken">The DCID of the client's very first Initial when a Retry happened, else null.</param>
    /// <param name="now">The time.</param>
    public static QuicConnection CreateServer(ConnectionSettings settings, IPEndPoint remote, ReadOnlySpan<byte> clientDcid, ReadOnlySpan<byte> clientScid, byte[]? originalDcidFromRetryToken, long now)
    {
        var scid = RandomNumberGenerator.GetBytes(settings.ConnectionIdLength);
        var dcid = clientDcid.ToArray();
        var connection = new QuicConnection(settings, remote, scid, clientScid.ToArray(), dcid, now, c =>
        {
            var parameters = c.LocalParameters(scid);
            parameters.OriginalDestinationConnectionId = originalDcidFromRetryToken ?? dcid;
            parameters.RetrySourceConnectionId = originalDcidFromRetryToken is null ? null : dcid;
            parameters.StatelessResetToken = new byte[StatelessReset.TokenLength];
            StatelessReset.ComputeToken(settings.StatelessResetKey, scid, parameters.StatelessResetToken);
            return settings.TlsFactory(c, parameters.Encode());
        });
        connection._peerInitialScid = clientScid.ToArray();
        connection._addressValidated = originalDcidFromRetryToken is not null;
        connection.InstallInitialKeys(dcid);
        connection._tls.Start();
        return connection;
    }

    private TransportParameters LocalParameters(byte[] scid) => new()
    {
        InitialSourceConnectionId = scid,
        MaxIdleTimeout = _settings.IdleTimeoutMicros / 1000,
        InitialMaxData = _settings.ConnectionReceiveWindow,
        InitialMaxStreamDataBidiLocal = _settings.StreamReceiveWindow,
        InitialMaxStreamDataBidiRemote = _settings.StreamReceiveWindow,
        InitialMaxStreamDataUni = _settings.StreamReceiveWindow,
        InitialMaxStreamsBidi = _settings.MaxInboundBidiStreams,
        InitialMaxStreamsUni = _settings.MaxInboundUniStreams,
        MaxDatagramFrameSize = _settings.MaxDatagramFrameSize,
        ActiveConnectionIdLimit = _settings.ActiveConnectionIdLimit,
        MaxUdpPayloadSize = 1500,
    };

    private void InstallInitialKeys(ReadOnlySpan<byte> dcid)
    {
        var (client, server) = InitialProtection.Create(dcid);
        _readKeys[InitialSpace]?.Dispose();
        _writeKeys[InitialSpace]?.Dispose();
        _readKeys[InitialSpace] = _isServer ? client : server;
        _writeKeys[InitialSpace] = _isServer ? server : client;
    }

    // ---------------------------------------------------------------- TLS callbacks (RFC 9001 §4.1)

    void IQuicTlsCallbacks.WriteCryptoData(EncryptionLevel level, ReadOnlySpan<byte> data)
    {
        var space = SpaceOf(level);
        _cryptoSend[space].Append(data);
    }

    void IQuicTlsCallbacks.SetSecret(EncryptionLevel level, bool isWrite, TlsCipherSuite cipherSuite, ReadOnlySpan<byte> secret)
    {
        if (level == EncryptionLevel.EarlyData)
        {
            return;
        }

        var space = SpaceOf(level);
        var keys = PacketProtection.Create(cipherSuite, secret);
        if (isWrite)
        {
            _writeKeys[space] = keys;
        }
        else
        {
            _readKeys[space] = keys;
            if (space == AppSpace)
            {
                _appReadNext = keys.NextPhase();
            }
        }

        if (space == HandshakeSpace)
        {
            _recovery.HasHandshakeKeys = true;
        }
    }

    void IQuicTlsCallbacks.OnHandshakeCompleted()
    {
        _handshakeComplete = true;
    }

    private static int SpaceOf(EncryptionLevel level) => level switch
    {
        EncryptionLevel.Initial => InitialSpace,
        EncryptionLevel.Handshake => HandshakeSpace,
        _ => AppSpace,
    };

    private static EncryptionLevel LevelOf(int space) => space switch
    {
        InitialSpace => EncryptionLevel.Initial,
        HandshakeSpace => EncryptionLevel.Handshake,
        _ => EncryptionLevel.Application,
    };

    // ---------------------------------------------------------------- Receiving

    /// <summary>Processes one UDP datagram, which may hold several coalesced packets (RFC 9000 §12.2).</summary>
    public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now)
    {
        if (State is ConnectionState.Terminated or ConnectionState.Draining)
        {
            return;
        }

        if (_receiveScratch.Length < datagram.Length)
        {
            _receiveScratch = new byte[Math.Max(datagram.Length, _receiveScratch.Length * 2)];
        }

        var buffer = _receiveScratch.AsSpan(0, datagram.Length);
        datagram.CopyTo(buffer);
        BytesReceived += datagram.Length;
        if (!_addressValidated && _isServer)
        {
            UnvalidatedBytesReceived += datagram.Length;
            _recovery.AtAntiAmplificationLimit = false;
        }

        var anyProcessed = false;
        try
        {
            var offset = 0;
            while (offset < buffer.Length && State is not (ConnectionState.Terminated or ConnectionState.Draining))
            {
                var packet = buffer[offset..];
                if (!PacketHeader.TryParse(packet, _settings.ConnectionIdLength, out var header))
                {
                    break;
                }

                offset += header.PacketLength;
                anyProcessed |= ProcessPacket(packet[..header.PacketLength], header, from, now);
            }
        }
        catch (QuicTransportErrorException error)
        {
            CloseWithTransportError(error.ErrorCode, error.FrameType, error.Message, now);
        }
        catch (TlsAlertException alert)
        {
            CloseWithTransportError(alert.QuicErrorCode, FrameType.Crypto, alert.Message, now);
        }

        if (!anyProcessed)
        {
            DetectStatelessReset(datagram, now);
        }
        else if (State == ConnectionState.Closing)
        {
            // A peer still sending during our closing period gets the CONNECTION_CLOSE again (RFC 9000 §10.2.1).
            _closeSendPending = true;
        }
    }

    private bool ProcessPacket(Span<byte> packet, in PacketHeader header, IPEndPoint from, long now)
    {
        int space;
        switch (header.Type)
        {
            case PacketType.VersionNegotiation:
                HandleVersionNegotiation(packet, header);
                return false;
            case PacketType.Retry:
                HandleRetry(packet, header, now);
                return false;
            case PacketType.Initial when header.Version == PacketHeader.Version1:
                space = InitialSpace;
                break;
            case PacketType.Handshake:
                space = HandshakeSpace;
                break;
            case PacketType.OneRtt:
                space = AppSpace;
                break;
            default:
                // 0-RTT is not offered; unknown versions inside a connection are dropped.
                return false;
        }

        var dcid = packet.Slice(header.DestinationCidOffset, header.DestinationCidLength);
        if (!IsLocalConnectionId(dcid) && !(_isServer && space == InitialSpace && dcid.SequenceEqual(_originalDcid)))
        {
            return false;
        }

        var keys = space == AppSpace ? _readKeys[AppSpace] : _readKeys[space];
        if (keys is null || _discarded[space])
        {
            return false;
        }

        var pnLength = keys.HeaderProtection.Remove(packet, header.PacketNumberOffset);
        if (pnLength < 0)
        {
            return false;
        }

        long truncated = 0;
        for (var i = 0; i < pnLength; i++)
        {
            truncated = (truncated << 8) | packet[header.PacketNumberOffset + i];
        }

        var pn = PacketNumber.Decode(_largestReceived[space], truncated, pnLength * 8);
        var headerLength = header.PacketNumberOffset + pnLength;
        var cipherLength = header.PacketLength - headerLength;
        var keyPhaseChanged = false;
        if (space == AppSpace)
        {
            var phase = (packet[0] & 0x04) != 0;
            if (phase != _readKeyPhase)
            {
                // A different phase: the peer's next keys for newer packets, the previous ones for older (RFC 9001 §6.3).
                if (_appReadPrevious is not null && pn < _firstPacketInReadPhase)
                {
                    keys = _appReadPrevious;
                }
                else
                {
                    keys = _appReadNext!;
                    keyPhaseChanged = true;
                }
            }
        }

        if (!keys.TryOpen(packet, headerLength, cipherLength, pn))
        {
            return false;
        }

        // Reserved bits must be zero once protection is removed (RFC 9000 §17.2, §17.3.1).
        if ((packet[0] & (header.IsLongHeader ? 0x0c : 0x18)) != 0)
        {
            throw new QuicTransportErrorException(TransportErrorCode.ProtocolViolation, "reserved header bits set (RFC 9000 §17.2)");
        }

        if (_trackers[space].IsDuplicate(pn))
        {
            return true;
        }

        if (keyPhaseChanged)
        {
            RotateReadKeys(pn, now);
        }

        var isLargest = pn > _largestReceived[space];
        _largestReceived[space] = Math.Max(_largestReceived[space], pn);
        PacketsReceived++;

        if (!_receivedFromPeer && !_isServer && header.IsLongHeader)
        {
            // The client switches to the server's chosen connection ID (RFC 9000 §7.2).
            _peerCid = packet.Slice(header.SourceCidOffset, header.SourceCidLength).ToArray();
            _peerInitialScid = _peerCid;
        }

        _receivedFromPeer = true;
        var payload = packet.Slice(headerLength, cipherLength - TagLength);
        if (payload.IsEmpty)
        {
            throw new QuicTransportErrorException(TransportErrorCode.ProtocolViolation, "packet without frames (RFC 9000 §12.4)");
        }

        var ackEliciting = false;
        var probingOnly = true;
        var reader = new QuicReader(payload);
        while (FrameParser.TryReadFrame(ref reader, out var frame))
        {
            FrameParser.CheckAllowed(frame.Type, header.Type);
            ackEliciting |= FrameParser.IsAckEliciting(frame.Type);
            probingOnly &= frame.Type is FrameType.PathChallenge or FrameType.PathResponse or FrameType.NewConnectionId or FrameType.Padding;
            HandleFrame(ref frame, space, dcid, now);
            if (State is ConnectionState.Draining or ConnectionState.Terminated)
            {
                return true;
            }
        }

        _trackers[space].OnPacketReceived(pn, ackEliciting, now);
        if (ackEliciting)
        {
            AckElicitingPacketsReceived++;
        }

        _idleDeadline = _idleTimeoutMicros > 0 ? now + Math.Max(_idleTimeoutMicros, 3 * CurrentPto()) : long.MaxValue;
        _ackElicitingSentSinceReceive = false;

        if (_isServer && space == HandshakeSpace)
        {
            // A Handshake packet proves the client owns its address, and Initial keys go (RFC 9000 §8.1, RFC 9001 §4.9.1).
            ValidateAddress();
            DiscardSpace(InitialSpace, now);
        }

        if (!_isServer && space == HandshakeSpace)
        {
            _recovery.PeerAwaitingAddressValidation = false;
        }

        if (space == AppSpace && isLargest && !probingOnly && !from.Equals(_remote))
        {
            OnPeerMigrated(from, now);
        }

        AfterCryptoProgress(now);
        return true;
    }

    private bool IsLocalConnectionId(ReadOnlySpan<byte> dcid)
    {
        foreach (var (_, id) in _localIds)
        {
            if (dcid.SequenceEqual(id))
            {
                return true;
            }
        }

        return false;
    }

    private void HandleVersionNegotiation(ReadOnlySpan<byte> packet, in PacketHeader header)
    {
        // Only a client that has heard nothing else may act on it; one listing our version is discarded (RFC 9000 §6.2).
        if (_isServer || _receivedFromPeer
            || !packet.Slice(header.DestinationCidOffset, header.DestinationCidLength).SequenceEqual(_localIds[0].Id)
            || !packet.Slice(header.SourceCidOffset, header.SourceCidLength).SequenceEqual(_originalDcid)
            || PacketHeader.VersionNegotiationLists(packet, header, PacketHeader.Version1))
        {
            return;
        }

        CloseError = new QuicException(QuicError.VersionNegotiationError, null, null, "The server supports no version this client speaks (RFC 9000 §6).");
        Terminate(CloseError);
    }

    private void HandleRetry(ReadOnlySpan<byte> packet, in PacketHeader header, long now)
    {
        // A client accepts one Retry, before any other server packet, with a valid integrity tag (RFC 9000 §17.2.5.2).
        if (_isServer || _receivedFromPeer || _retrySourceCid is not null || header.TokenLength == 0
            || !InitialProtection.VerifyRetry(_originalDcid, packet))
        {
            return;
        }

        var scid = packet.Slice(header.SourceCidOffset, header.SourceCidLength);
        if (scid.SequenceEqual(_peerCid))
        {
            return;
        }

        _retrySourceCid = scid.ToArray();
        _retryToken = packet.Slice(header.TokenOffset, header.TokenLength).ToArray();
        _peerCid = _retrySourceCid;
        InstallInitialKeys(_peerCid);
        _recovery.OnRetryReceived(now, this);
        _cryptoSend[InitialSpace].RequeueAll();
    }

    private void DetectStatelessReset(ReadOnlySpan<byte> datagram, long now)
    {
        // The last 16 bytes of an undecryptable datagram may be a reset token the peer gave us (RFC 9000 §10.3.1).
        if (datagram.Length < 21 || State == ConnectionState.Terminated)
        {
            return;
        }

        var tail = datagram[^StatelessReset.TokenLength..];
        foreach (var peer in _peerIds)
        {
            if (peer.ResetToken is { } token && CryptographicOperations.FixedTimeEquals(token, tail))
            {
                StatelessResetsDetected++;
                State = ConnectionState.Draining;
                _closeDeadline = now;
                CloseError = new QuicException(QuicError.ConnectionAborted, null, null, "The peer sent a stateless reset (RFC 9000 §10.3).");
                Events.OnClosed(CloseError);
                Terminate(CloseError);
                return;
            }
        }
    }

    private void RotateReadKeys(long pn, long now)
    {
        // The peer moved to the next key phase (RFC 9001 §6.2, §6.3): keep the old keys for about 3 PTO.
        _appReadPrevious?.Dispose();
        _appReadPrevious = _readKeys[AppSpace];
        _readKeys[AppSpace] = _appReadNext;
        _appReadNext = _readKeys[AppSpace]!.NextPhase();
        _readKeyPhase = !_readKeyPhase;
        _firstPacketInReadPhase = pn;
        _previousKeysDiscardAt = now + 3 * CurrentPto();
        if (_writeKeyPhase != _readKeyPhase)
        {
            // We did not start this update: answer it by updating our write keys too (RFC 9001 §6.2).
            UpdateWriteKeys();
        }

        KeyUpdateCount++;
    }

    private void UpdateWriteKeys()
    {
        var next = _writeKeys[AppSpace]!.NextPhase();
        _writeKeys[AppSpace] = next;
        _writeKeyPhase = !_writeKeyPhase;
        _firstPacketInWritePhase = _nextPacketNumber[AppSpace];
    }

    /// <summary>
    /// Starts a key update (RFC 9001 §6.1). Allowed once the handshake is confirmed and a packet of the current phase has
    /// been acknowledged; returns false otherwise.
    /// </summary>
    public bool RequestKeyUpdate()
    {
        if (State != ConnectionState.Established || !_handshakeConfirmed || _writeKeyPhase != _readKeyPhase
            || _recovery.LargestAcked(PacketNumberSpace.ApplicationData) < _firstPacketInWritePhase)
        {
            return false;
        }

        UpdateWriteKeys();
        _keyUpdatePending = false;
        KeyUpdatesInitiated++;
        Events.OnKeyUpdateStarted();
        return true;
    }

    /// <summary>
    /// Starts a key update now if <see cref="RequestKeyUpdate"/> allows it, else remembers the wish and starts it from
    /// <see cref="TrySend"/> once the handshake is confirmed and a packet of the current phase is acknowledged
    /// (RFC 9001 §6.1). <see cref="IConnectionEvents.OnKeyUpdateStarted"/> reports when it began.
    /// </summary>
    public void ScheduleKeyUpdate()
    {
        if (!RequestKeyUpdate())
        {
            _keyUpdatePending = true;
        }
    }

    private void AfterCryptoProgress(long now)
    {
        if (_peerParameters is null && _tls.PeerTransportParameters is { } encoded)
        {
            ApplyPeerParameters(encoded.Span);
        }

        if (_handshakeComplete && State == ConnectionState.Handshaking)
        {
            State = ConnectionState.Established;
            if (_isServer)
            {
                // The server's handshake is confirmed at completion (RFC 9001 §4.1.2); it tells the client so.
                _handshakeDonePending = true;
                ConfirmHandshake(now);
            }

            IssueConnectionIds();
            Events.OnHandshakeCompleted();
            Events.OnStreamsAvailable();
        }
    }

    private void ConfirmHandshake(long now)
    {
        if (_handshakeConfirmed)
        {
            return;
        }

        _handshakeConfirmed = true;
        _recovery.HandshakeConfirmed = true;
        _recovery.PeerAwaitingAddressValidation = false;
        DiscardSpace(InitialSpace, now);
        DiscardSpace(HandshakeSpace, now);
    }

    private void ApplyPeerParameters(ReadOnlySpan<byte> encoded)
    {
        var parameters = TransportParameters.Decode(encoded, fromServer: !_isServer);
        parameters.ValidateConnectionIds(_peerInitialScid ?? _peerCid, _originalDcid, _retrySourceCid, peerIsServer: !_isServer);
        _peerParameters = parameters;
        _peerMaxData = parameters.InitialMaxData;
        _peerMaxStreamsBidi = parameters.InitialMaxStreamsBidi;
        _peerMaxStreamsUni = parameters.InitialMaxStreamsUni;
        _peerAckDelayExponent = parameters.AckDelayExponent;
        _recovery.PeerMaxAckDelayMicros = parameters.MaxAckDelay * 1000;
        if (parameters.MaxIdleTimeout > 0)
        {
            var peerIdle = parameters.MaxIdleTimeout * 1000;
            _idleTimeoutMicros = _idleTimeoutMicros == 0 ? peerIdle : Math.Min(_idleTimeoutMicros, peerIdle);
        }

        _peerIds.Clear();
        _peerIds.Add(new PeerConnectionId { Sequence = 0, Id = _peerCid, ResetToken = parameters.StatelessResetToken });
    }

    private void ValidateAddress()
    {
        _addressValidated = true;
        _recovery.AtAntiAmplificationLimit = false;
    }

    private void OnPeerMigrated(IPEndPoint from, long now)
    {
        // The peer's address changed (RFC 9000 §9.3): send to the new one at once, and validate it.
        _remote = from;
        _pathChallenge = RandomNumberGenerator.GetBytes(8);
        _pathChallengePending = true;
        _pathValidationDeadline = now + 3 * Math.Max(CurrentPto(), 2 * _recovery.Rtt.SmoothedRtt);
    }

    private long CurrentPto() => _recovery.Rtt.PtoDuration(PacketNumberSpace.ApplicationData, _recovery.PeerMaxAckDelayMicros);

    private void DiscardSpace(int space, long now)
    {
        if (_discarded[space])
        {
            return;
        }

        _discarded[space] = true;
        _recovery.DiscardPacketNumberSpace((PacketNumberSpace)space, now, this);
        _readKeys[space]?.Dispose();
        _writeKeys[space]?.Dispose();
        _readKeys[space] = null;
        _writeKeys[space] = null;
        _probes[space] = 0;
    }

    // ---------------------------------------------------------------- Timers

    /// <summary>Runs the timers that have expired at <paramref name="now"/>.</summary>
    public void OnDeadline(long now)
    {
        if (State == ConnectionState.Terminated)
        {
            return;
        }

        if (now >= _closeDeadline)
        {
            Terminate(CloseError ?? new QuicException(QuicError.OperationAborted, null, null, "The connection closed."));
            return;
        }

        if (now >= _idleDeadline)
        {
            // Idle timeout: the connection is silently closed (RFC 9000 §10.1).
            CloseError = State == ConnectionState.Handshaking
                ? new QuicException(QuicError.ConnectionTimeout, null, null, "The handshake did not complete before the idle timeout (RFC 9000 §10.1).")
                : new QuicException(QuicError.ConnectionIdle, null, null, "The connection idled out (RFC 9000 §10.1).");
            if (State is not (ConnectionState.Closing or ConnectionState.Draining))
            {
                Events.OnClosed(CloseError);
            }

            Terminate(CloseError);
            return;
        }

        if (now >= _previousKeysDiscardAt)
        {
            _appReadPrevious?.Dispose();
            _appReadPrevious = null;
            _previousKeysDiscardAt = long.MaxValue;
        }

        if (now >= _pathValidationDeadline)
        {
            // Path validation failed (RFC 9000 §8.2.4); we keep the path, as a NAT rebinding may still be genuine.
            _pathValidationDeadline = long.MaxValue;
            _pathChallengePending = false;
        }

        if (State is ConnectionState.Closing or ConnectionState.Draining)
        {
            return;
        }

        if (_recovery.LossDetectionDeadline is { } loss && now >= loss)
        {
            var result = _recovery.OnLossDetectionTimeout(now, this);
            if (result.Action == LossTimeoutAction.SendProbes)
            {
                var space = (int)result.ProbeSpace;
                _probes[space] = Math.Max(_probes[space], result.ProbeCount);
                if (space != AppSpace)
                {
                    // Resend the handshake flight rather than a bare PING: it is small and it is what is missing.
                    _cryptoSend[space].RequeueAll();
                }
            }
        }
    }

    private void Terminate(QuicException error)
    {
        if (State == ConnectionState.Terminated)
        {
            return;
        }

        CloseError ??= error;
        State = ConnectionState.Terminated;
        _closeDeadline = long.MaxValue;
        _idleDeadline = long.MaxValue;
    }

    // ---------------------------------------------------------------- Closing (RFC 9000 §10.2)

    /// <summary>Closes with an application error (CONNECTION_CLOSE 0x1d).</summary>
    public void Close(long applicationErrorCode, string reason, long now)
    {
        if (State is ConnectionState.Closing or ConnectionState.Draining or ConnectionState.Terminated)
        {
            return;
        }

        // Before the handshake is confirmed an application close goes as APPLICATION_ERROR 0x1c in the handshake
        // spaces (RFC 9000 §10.2.3); we send it as 0x1d in 1-RTT when that is possible.
        EnterClosing(applicationErrorCode, 0, _writeKeys[AppSpace] is not null && _handshakeComplete, reason, now);
        CloseError = new QuicException(QuicError.OperationAborted, applicationErrorCode, null, "The connection was closed locally.");
        Events.OnClosed(CloseError);
    }

    private void CloseWithTransportError(long code, long frameType, string reason, long now)
    {
        if (State is ConnectionState.Closing or ConnectionState.Draining or ConnectionState.Terminated)
        {
            return;
        }

        EnterClosing(code, frameType, false, reason, now);
        CloseError = new QuicException(QuicError.TransportError, null, code, reason);
        Events.OnClosed(CloseError);
    }

    private void EnterClosing(long code, long frameType, bool application, string reason, long now)
    {
        State = ConnectionState.Closing;
        _closeErrorCode = code;
        _closeFrameType = frameType;
        _closeIsApplication = application;
        _closeReason = reason.Length > 100 ? reason[..100] : reason;
        _closeSendPending = true;
        _closeDeadline = now + 3 * CurrentPto();
    }

    private void OnPeerClosed(ref Frame frame, long now)
    {
        var application = frame.Type == FrameType.ConnectionCloseApplication;
        var reason = System.Text.Encoding.UTF8.GetString(frame.ReasonPhrase);
        var error = application
            ? new QuicException(QuicError.ConnectionAborted, frame.ErrorCode, null, $"The peer closed the connection: {reason}")
            : new QuicException(frame.ErrorCode == TransportErrorCode.ConnectionRefused ? QuicError.ConnectionRefused : QuicError.TransportError, null, frame.ErrorCode, $"The peer closed the connection with transport error 0x{frame.ErrorCode:x}: {reason}");
        var wasOpen = State is not ConnectionState.Closing;
        State = ConnectionState.Draining;
        _closeDeadline = now + 3 * CurrentPto();
        if (wasOpen)
        {
            CloseError = error;
            Events.OnClosed(error);
        }
    }

    private sealed class NullEvents : IConnectionEvents
    {
        public static readonly NullEvents Instance = new();

        public void OnHandshakeCompleted()
        {
        }

        public void OnStreamOpened(QuicStreamStateRef stream)
        {
        }

        public void OnStreamReadable(QuicStreamStateRef stream)
        {
        }

        public void OnStreamWritable(QuicStreamStateRef stream)
        {
        }

        public void OnStreamsAvailable()
        {
        }

        public void OnDatagramReceived()
        {
        }

        public void OnClosed(QuicException error)
        {
        }

        public void OnConnectionIdIssued(byte[] connectionId)
        {
        }

        public void OnConnectionIdRetired(byte[] connectionId)
        {
        }

        public void OnKeyUpdateStarted()
        {
        }
    }
}
