using System.Net;
using Switchyard.Quic.Frames;
using Switchyard.Quic.Packets;
using Switchyard.Quic.Recovery;
using Switchyard.Quic.Streams;

namespace Switchyard.Quic.Connection;

/// <summary>Frame handling (RFC 9000 §19) and the loss-recovery callbacks (retransmission by frame, §13.3).</summary>
internal sealed partial class QuicConnection
{
    private void HandleFrame(ref Frame frame, int space, ReadOnlySpan<byte> packetDcid, long now)
    {
        switch (frame.Type)
        {
            case FrameType.Padding:
            case FrameType.Ping:
                break;
            case FrameType.Ack:
            case FrameType.AckEcn:
                OnAckFrame(ref frame, space, now);
                break;
            case FrameType.Crypto:
                OnCryptoFrame(ref frame, space);
                break;
            case FrameType.NewToken:
                if (_isServer)
                {
                    throw Violation(frame.Type, "a client sent NEW_TOKEN (RFC 9000 §19.7)");
                }

                // Tokens for future connections are not used by this client.
                break;
            case >= FrameType.Stream and <= FrameType.StreamMax:
                OnStreamFrame(ref frame);
                break;
            case FrameType.ResetStream:
                OnResetStream(ref frame);
                break;
            case FrameType.StopSending:
                OnStopSending(ref frame);
                break;
            case FrameType.MaxData:
                if (frame.Maximum > _peerMaxData)
                {
                    _peerMaxData = frame.Maximum;
                    NotifyAllWritable();
                }

                break;
            case FrameType.MaxStreamData:
            {
                var stream = StreamForFrame(frame.StreamId, sending: true, frame.Type);
                if (stream is not null && frame.Maximum > stream.PeerMaxStreamData)
                {
                    stream.PeerMaxStreamData = frame.Maximum;
                    Enqueue(stream);
                    Events.OnStreamWritable(new QuicStreamStateRef(stream.Id, stream.Handle));
                }

                break;
            }

            case FrameType.MaxStreamsBidi:
                if (frame.Maximum > _peerMaxStreamsBidi)
                {
                    _peerMaxStreamsBidi = frame.Maximum;
                    Events.OnStreamsAvailable();
                }

                break;
            case FrameType.MaxStreamsUni:
                if (frame.Maximum > _peerMaxStreamsUni)
                {
                    _peerMaxStreamsUni = frame.Maximum;
                    Events.OnStreamsAvailable();
                }

                break;
            case FrameType.DataBlocked:
            case FrameType.StreamsBlockedBidi:
            case FrameType.StreamsBlockedUni:
                // Informational (RFC 9000 §4.1): our window updates follow reads, not the peer's complaints.
                break;
            case FrameType.StreamDataBlocked:
                StreamForFrame(frame.StreamId, sending: false, frame.Type);
                break;
            case FrameType.NewConnectionId:
                OnNewConnectionId(ref frame);
                break;
            case FrameType.RetireConnectionId:
                OnRetireConnectionId(frame.SequenceNumber, packetDcid);
                break;
            case FrameType.PathChallenge:
                _pathResponse = frame.Data.ToArray();
                break;
            case FrameType.PathResponse:
                if (_pathChallenge is not null && frame.Data.SequenceEqual(_pathChallenge))
                {
                    _pathChallenge = null;
                    _pathChallengePending = false;
                    _pathValidationDeadline = long.MaxValue;
                    PathValidationsSucceeded++;
                }

                break;
            case FrameType.ConnectionCloseTransport:
            case FrameType.ConnectionCloseApplication:
                OnPeerClosed(ref frame, now);
                break;
            case FrameType.HandshakeDone:
                if (_isServer)
                {
                    throw Violation(frame.Type, "a client sent HANDSHAKE_DONE (RFC 9000 §19.20)");
                }

                ConfirmHandshake(now);
                break;
            case FrameType.Datagram:
            case FrameType.DatagramWithLength:
                OnDatagramFrame(ref frame);
                break;
            default:
                throw new QuicTransportErrorException(TransportErrorCode.FrameEncodingError, frame.Type, "unknown frame type (RFC 9000 §12.4)");
        }
    }

    private static QuicTransportErrorException Violation(long frameType, string message) =>
        new(TransportErrorCode.ProtocolViolation, frameType, message);

    private void OnAckFrame(ref Frame frame, int space, long now)
    {
        var count = 0;
        foreach (var range in frame.AckRanges)
        {
            if (count == _ackRanges.Length)
            {
                break;
            }

            _ackRanges[count++] = new AckRange(range.Smallest, range.Largest);
        }

        var delay = space == AppSpace ? Math.Min(frame.AckDelay, 1L << 40) << (int)_peerAckDelayExponent : 0;
        var outcome = _recovery.OnAckReceived((PacketNumberSpace)space, _ackRanges.AsSpan(0, count), delay, now, this);
        if (outcome == AckOutcome.AcknowledgedUnsentPacket)
        {
            throw Violation(frame.Type, "ACK of a packet never sent (RFC 9000 §13.1)");
        }

        if (!_isServer && space == HandshakeSpace)
        {
            _recovery.PeerAwaitingAddressValidation = false;
        }
    }

    private void OnCryptoFrame(ref Frame frame, int space)
    {
        var buffer = _cryptoReceive[space];
        if (frame.Offset + frame.Data.Length > buffer.ReadOffset + CryptoReceiveLimit)
        {
            throw new QuicTransportErrorException(TransportErrorCode.CryptoBufferExceeded, frame.Type, "CRYPTO data beyond the buffer limit (RFC 9000 §7.5)");
        }

        buffer.Write(frame.Offset, frame.Data, long.MaxValue);
        var ready = (int)buffer.ReadableBytes;
        if (ready > 0)
        {
            var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(ready);
            try
            {
                buffer.Read(scratch.AsSpan(0, ready));
                _tls.ProcessCryptoData(LevelOf(space), scratch.AsSpan(0, ready));
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
            }
        }
    }

    /// <summary>
    /// Finds the stream a frame refers to, opening peer streams implicitly (RFC 9000 §3.2), and enforcing direction and
    /// limits. Returns null for streams already closed and forgotten.
    /// </summary>
    private QuicStreamState? StreamForFrame(long id, bool sending, long frameType)
    {
        var local = QuicStreamState.IsClientInitiated(id) != _isServer;
        var bidi = QuicStreamState.IsBidi(id);
        if (!bidi && local != sending)
        {
            // A receive-side frame on our send-only stream, or a send-side frame on the peer's.
            throw new QuicTransportErrorException(TransportErrorCode.StreamStateError, frameType, $"frame 0x{frameType:x} on a unidirectional stream in the wrong direction (RFC 9000 §19.8, §19.10)");
        }

        if (_streams.TryGetValue(id, out var stream))
        {
            return stream;
        }

        var index = id >> 2;
        if (local)
        {
            var opened = bidi ? _openedLocalBidi : _openedLocalUni;
            if (index >= opened)
            {
                throw new QuicTransportErrorException(TransportErrorCode.StreamStateError, frameType, "frame for a local stream not yet opened (RFC 9000 §19.8)");
            }

            return null;
        }

        var max = bidi ? _localMaxStreamsBidi : _localMaxStreamsUni;
        if (index >= max)
        {
            throw new QuicTransportErrorException(TransportErrorCode.StreamLimitError, frameType, "peer opened more streams than allowed (RFC 9000 §4.6)");
        }

        ref var peerOpened = ref bidi ? ref _openedPeerBidi : ref _openedPeerUni;
        if (index < peerOpened)
        {
            return null;
        }

        var sendLimit = bidi ? _peerParameters?.InitialMaxStreamDataBidiLocal ?? 0 : 0;
        for (var i = peerOpened; i <= index; i++)
        {
            var newId = (i << 2) | (id & 3);
            var created = new QuicStreamState(newId, _isServer, _settings.StreamSendBuffer, _settings.StreamReceiveWindow, sendLimit);
            _streams.Add(newId, created);
            _acceptQueue.Enqueue(newId);
            Events.OnStreamOpened(new QuicStreamStateRef(newId, null));
        }

        peerOpened = index + 1;
        return _streams[id];
    }

    private void OnStreamFrame(ref Frame frame)
    {
        var stream = StreamForFrame(frame.StreamId, sending: false, frame.Type);
        if (stream is null || stream.ReceiveState is ReceiveState.ResetRecvd or ReceiveState.ResetRead)
        {
            return;
        }

        var receive = stream.Receive!;
        var end = frame.Offset + frame.Data.Length;
        if (stream.FinalSize is { } finalSize && (end > finalSize || (frame.Fin && end != finalSize)))
        {
            throw new QuicTransportErrorException(TransportErrorCode.FinalSizeError, frame.Type, "data past or changing the final size (RFC 9000 §4.5)");
        }

        if (frame.Fin && stream.FinalSize is null)
        {
            if (end < receive.HighestOffset)
            {
                throw new QuicTransportErrorException(TransportErrorCode.FinalSizeError, frame.Type, "final size below data already received (RFC 9000 §4.5)");
            }

            stream.FinalSize = end;
            stream.ReceiveState = ReceiveState.SizeKnown;
        }

        if (end > stream.LocalMaxStreamData)
        {
            throw new QuicTransportErrorException(TransportErrorCode.FlowControlError, frame.Type, "stream data beyond MAX_STREAM_DATA (RFC 9000 §4.1)");
        }

        var before = receive.HighestOffset;
        receive.Write(frame.Offset, frame.Data, stream.LocalMaxStreamData);
        _receivedData += receive.HighestOffset - before;
        if (_receivedData > _localMaxData)
        {
            throw new QuicTransportErrorException(TransportErrorCode.FlowControlError, frame.Type, "connection data beyond MAX_DATA (RFC 9000 §4.1)");
        }

        if (stream.ReceiveState == ReceiveState.DataRead)
        {
            // The application stopped reading (STOP_SENDING): drop the bytes but give the credit back.
            var dropped = (int)receive.ReadableBytes;
            receive.Consume(dropped);
            OnBytesConsumed(stream, dropped);
            return;
        }

        if (stream.FinalSize is { } size && receive.ReadOffset + receive.ReadableBytes == size)
        {
            stream.ReceiveState = ReceiveState.DataRecvd;
        }

        if (receive.ReadableBytes > 0 || stream.ReceiveState == ReceiveState.DataRecvd)
        {
            Events.OnStreamReadable(new QuicStreamStateRef(stream.Id, stream.Handle));
        }
    }

    private void OnResetStream(ref Frame frame)
    {
        var stream = StreamForFrame(frame.StreamId, sending: false, frame.Type);
        if (stream is null)
        {
            return;
        }

        var receive = stream.Receive!;
        if ((stream.FinalSize is { } known && known != frame.FinalSize) || frame.FinalSize < receive.HighestOffset)
        {
            throw new QuicTransportErrorException(TransportErrorCode.FinalSizeError, frame.Type, "RESET_STREAM final size contradicts the data (RFC 9000 §4.5)");
        }

        if (frame.FinalSize > stream.LocalMaxStreamData)
        {
            throw new QuicTransportErrorException(TransportErrorCode.FlowControlError, frame.Type, "RESET_STREAM final size beyond MAX_STREAM_DATA (RFC 9000 §4.5)");
        }

        _receivedData += frame.FinalSize - receive.HighestOffset;
        if (_receivedData > _localMaxData)
        {
            throw new QuicTransportErrorException(TransportErrorCode.FlowControlError, frame.Type, "RESET_STREAM final size beyond MAX_DATA (RFC 9000 §4.5)");
        }

        if (stream.ReceiveState is ReceiveState.DataRecvd or ReceiveState.DataRead or ReceiveState.ResetRecvd or ReceiveState.ResetRead)
        {
            return;
        }

        // Bytes that will never be read return their connection credit now.
        OnBytesConsumed(null, frame.FinalSize - receive.ReadOffset);
        stream.FinalSize = frame.FinalSize;
        stream.PeerResetCode = frame.ErrorCode;
        stream.ReceiveState = ReceiveState.ResetRecvd;
        stream.MaxStreamDataPending = false;
        Events.OnStreamReadable(new QuicStreamStateRef(stream.Id, stream.Handle));
    }

    private void OnStopSending(ref Frame frame)
    {
        var stream = StreamForFrame(frame.StreamId, sending: true, frame.Type);
        if (stream is null)
        {
            return;
        }

        stream.PeerStopSendingCode ??= frame.ErrorCode;

        // STOP_SENDING is answered with RESET_STREAM (RFC 9000 §3.5).
        ResetSendSide(stream, frame.ErrorCode);
        Events.OnStreamWritable(new QuicStreamStateRef(stream.Id, stream.Handle));
    }

    private void ResetSendSide(QuicStreamState stream, long errorCode)
    {
        if (stream.SendState is SendState.DataRecvd or SendState.ResetSent or SendState.ResetRecvd)
        {
            return;
        }

        stream.SendState = SendState.ResetSent;
        stream.ResetPending = true;
        stream.ResetCode = errorCode;
        Enqueue(stream);
    }

    private void OnNewConnectionId(ref Frame frame)
    {
        foreach (var existing in _peerIds)
        {
            if (existing.Sequence == frame.SequenceNumber)
            {
                if (!existing.Id.AsSpan().SequenceEqual(frame.ConnectionId))
                {
                    throw Violation(frame.Type, "NEW_CONNECTION_ID reuses a sequence number for another ID (RFC 9000 §19.15)");
                }

                return;
            }
        }

        if (frame.SequenceNumber < _peerRetirePriorTo)
        {
            _retireQueue.Enqueue(frame.SequenceNumber);
            return;
        }

        _peerIds.Add(new PeerConnectionId { Sequence = frame.SequenceNumber, Id = frame.ConnectionId.ToArray(), ResetToken = frame.StatelessResetToken.ToArray() });
        if (frame.RetirePriorTo > _peerRetirePriorTo)
        {
            _peerRetirePriorTo = frame.RetirePriorTo;
            for (var i = _peerIds.Count - 1; i >= 0; i--)
            {
                if (_peerIds[i].Sequence < _peerRetirePriorTo)
                {
                    _retireQueue.Enqueue(_peerIds[i].Sequence);
                    _peerIds.RemoveAt(i);
                }
            }

            // Move to the lowest remaining ID (RFC 9000 §5.1.2).
            _peerCid = _peerIds.MinBy(p => p.Sequence)!.Id;
        }

        if (_peerIds.Count > _settings.ActiveConnectionIdLimit)
        {
            throw new QuicTransportErrorException(TransportErrorCode.ConnectionIdLimitError, frame.Type, "more connection IDs than active_connection_id_limit (RFC 9000 §5.1.1)");
        }
    }

    private void OnRetireConnectionId(long sequence, ReadOnlySpan<byte> packetDcid)
    {
        if (sequence >= _nextLocalSequence)
        {
            throw Violation(FrameType.RetireConnectionId, "RETIRE_CONNECTION_ID for an ID never issued (RFC 9000 §19.16)");
        }

        var index = _localIds.FindIndex(x => x.Sequence == sequence);
        if (index < 0)
        {
            return;
        }

        if (packetDcid.SequenceEqual(_localIds[index].Id))
        {
            throw Violation(FrameType.RetireConnectionId, "RETIRE_CONNECTION_ID for the ID the packet was sent to (RFC 9000 §19.16)");
        }

        var retired = _localIds[index].Id;
        _localIds.RemoveAt(index);
        Events.OnConnectionIdRetired(retired);
        IssueConnectionIds();
    }

    /// <summary>Issues connection IDs up to the peer's active_connection_id_limit (RFC 9000 §5.1.1).</summary>
    private void IssueConnectionIds()
    {
        var limit = Math.Min(_peerParameters?.ActiveConnectionIdLimit ?? 2, _settings.ActiveConnectionIdLimit);
        while (_localIds.Count < limit)
        {
            var id = System.Security.Cryptography.RandomNumberGenerator.GetBytes(_settings.ConnectionIdLength);
            var entry = (_nextLocalSequence++, id);
            _localIds.Add(entry);
            _newIdQueue.Enqueue(entry);
            Events.OnConnectionIdIssued(id);
        }
    }

    private void OnDatagramFrame(ref Frame frame)
    {
        if (_settings.MaxDatagramFrameSize == 0 || frame.Data.Length + 1 + VarInt.GetLength(frame.Data.Length) > _settings.MaxDatagramFrameSize)
        {
            throw Violation(frame.Type, "DATAGRAM frame not allowed or larger than max_datagram_frame_size (RFC 9221 §3)");
        }

        // Receiving queue is bounded: when the application does not keep up, newer datagrams are dropped (RFC 9221 §5).
        if (_datagramsIn.Count < _settings.DatagramQueueLength)
        {
            _datagramsIn.Enqueue(frame.Data.ToArray());
            Events.OnDatagramReceived();
        }
    }

    // ---------------------------------------------------------------- Loss recovery events

    void IRecoveryEvents.OnPacketAcked(PacketNumberSpace space, long packetNumber, object? frames)
    {
        if (frames is not SentPacketFrames sent)
        {
            return;
        }

        foreach (var frame in sent.Frames)
        {
            OnFrameAcked((int)space, frame);
        }

        Release(sent);
    }

    void IRecoveryEvents.OnPacketLost(PacketNumberSpace space, long packetNumber, object? frames)
    {
        PacketsLost++;
        if (frames is not SentPacketFrames sent)
        {
            return;
        }

        foreach (var frame in sent.Frames)
        {
            OnFrameLost((int)space, frame);
        }

        Release(sent);
    }

    void IRecoveryEvents.OnPacketDiscarded(PacketNumberSpace space, long packetNumber, object? frames)
    {
        if (frames is SentPacketFrames sent)
        {
            Release(sent);
        }
    }

    private void Release(SentPacketFrames frames)
    {
        frames.Frames.Clear();
        if (_framesPool.Count < 256)
        {
            _framesPool.Push(frames);
        }
    }

    private void OnFrameAcked(int space, in SentFrame frame)
    {
        switch (frame.Kind)
        {
            case SentFrameKind.Stream:
                if (_streams.TryGetValue(frame.StreamId, out var stream) && stream.SendState is SendState.Send or SendState.DataSent)
                {
                    stream.Send!.OnAcked(frame.Offset, frame.Length, frame.Fin);
                    if (stream.Send.AllAcked)
                    {
                        stream.SendState = SendState.DataRecvd;
                        MaybeForget(stream);
                    }

                    Events.OnStreamWritable(new QuicStreamStateRef(stream.Id, stream.Handle));
                }

                break;
            case SentFrameKind.Crypto:
                if (!_discarded[space])
                {
                    _cryptoSend[space].OnAcked(frame.Offset, frame.Length, false);
                }

                break;
            case SentFrameKind.ResetStream:
                if (_streams.TryGetValue(frame.StreamId, out var reset))
                {
                    reset.SendState = SendState.ResetRecvd;
                    MaybeForget(reset);
                }

                break;
            case SentFrameKind.Ack:
                _trackers[space].OnAckOfAckReceived(frame.Value);
                break;
            default:
                break;
        }
    }

    private void OnFrameLost(int space, in SentFrame frame)
    {
        QuicStreamState? stream;
        switch (frame.Kind)
        {
            case SentFrameKind.Stream:
                if (_streams.TryGetValue(frame.StreamId, out stream) && stream.SendState is SendState.Send or SendState.DataSent)
                {
                    stream.Send!.OnLost(frame.Offset, frame.Length, frame.Fin);
                    Enqueue(stream);
                }

                break;
            case SentFrameKind.Crypto:
                if (!_discarded[space])
                {
                    _cryptoSend[space].OnLost(frame.Offset, frame.Length, false);
                }

                break;
            case SentFrameKind.ResetStream:
                if (_streams.TryGetValue(frame.StreamId, out stream) && stream.SendState == SendState.ResetSent)
                {
                    stream.ResetPending = true;
                    Enqueue(stream);
                }

                break;
            case SentFrameKind.StopSending:
                if (_streams.TryGetValue(frame.StreamId, out stream) && stream.PeerResetCode is null && stream.FinalSize is null)
                {
                    stream.StopSendingPending = true;
                    Enqueue(stream);
                }

                break;
            case SentFrameKind.MaxStreamData:
                if (_streams.TryGetValue(frame.StreamId, out stream) && stream.ReceiveState == ReceiveState.Recv)
                {
                    stream.MaxStreamDataPending = true;
                    Enqueue(stream);
                }

                break;
            case SentFrameKind.MaxData:
                _maxDataPending = true;
                break;
            case SentFrameKind.MaxStreamsBidi:
                _maxStreamsBidiPending = true;
                break;
            case SentFrameKind.MaxStreamsUni:
                _maxStreamsUniPending = true;
                break;
            case SentFrameKind.NewConnectionId:
                var sequence = frame.Value;
                var index = _localIds.FindIndex(x => x.Sequence == sequence);
                if (index >= 0)
                {
                    _newIdQueue.Enqueue(_localIds[index]);
                }

                break;
            case SentFrameKind.RetireConnectionId:
                _retireQueue.Enqueue(frame.Value);
                break;
            case SentFrameKind.HandshakeDone:
                _handshakeDonePending = true;
                break;
            case SentFrameKind.PathChallenge:
                if (_pathChallenge is not null && _pathValidationDeadline != long.MaxValue)
                {
                    _pathChallengePending = true;
                }

                break;
            default:
                // ACK, PING, DATAGRAM, PATH_RESPONSE and the *_BLOCKED signals are not retransmitted as such (RFC 9000 §13.3).
                break;
        }
    }
}
