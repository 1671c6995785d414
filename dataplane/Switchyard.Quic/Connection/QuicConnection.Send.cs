using System.Net;
using Switchyard.Quic.Frames;
using Switchyard.Quic.Packets;
using Switchyard.Quic.Recovery;
using Switchyard.Quic.Streams;

namespace Switchyard.Quic.Connection;

/// <summary>Building datagrams: coalescing (RFC 9000 §12.2), padding (§14.1), amplification limit (§8.1).</summary>
internal sealed partial class QuicConnection
{
    // Room kept for the largest control frame we write.
    private const int ControlFrameRoom = 1 + 8 + 8 + 8;

    // When the pacer held back data that is waiting, the time it may go (RFC 9002 §7.7).
    private long _pacingDeadline = long.MaxValue;

    private struct PendingPacket
    {
        public int Space;
        public int Start;
        public int PacketNumberOffset;
        public int PacketNumberLength;
        public int PayloadEnd;
        public int LengthOffset;
        public long PacketNumber;
        public bool AckEliciting;
        public SentPacketFrames Frames;
    }

    /// <summary>
    /// Writes the next datagram to send into <paramref name="buffer"/>. Returns false when there is nothing to send now
    /// (the caller then waits for <see cref="NextDeadline"/> or new input).
    /// </summary>
    public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now)
    {
        length = 0;
        to = _remote;
        if (State is ConnectionState.Draining or ConnectionState.Terminated || (State == ConnectionState.Closing && !_closeSendPending))
        {
            return false;
        }

        if (_keyUpdatePending)
        {
            RequestKeyUpdate();
        }

        var limit = Math.Min(buffer.Length, _settings.MaxDatagramSize);
        if (_isServer && !_addressValidated)
        {
            // Until the client's address is validated, send at most three times what it sent (RFC 9000 §8.1).
            var allowance = (3 * UnvalidatedBytesReceived) - UnvalidatedBytesSent;
            if (allowance < limit)
            {
                if (allowance < 64)
                {
                    if (HasAnythingToSend())
                    {
                        AmplificationLimitedCount++;
                        _recovery.AtAntiAmplificationLimit = true;
                    }

                    return false;
                }

                limit = (int)allowance;
            }
        }

        var congestion = _recovery.CongestionController;
        var congestionBlocked = congestion.BytesInFlight + limit > congestion.CongestionWindow;
        var pacingAt = _pacer.NextSendTime(now, limit);
        _pacingDeadline = long.MaxValue;
        if (!congestionBlocked && pacingAt > now)
        {
            // Paced: ACKs, probes and CONNECTION_CLOSE still go; new data waits for the pacer.
            congestionBlocked = true;
            if (_sendQueue.Count > 0 || _datagramsOut.Count > 0)
            {
                _pacingDeadline = pacingAt;
            }
        }
        var position = 0;
        var count = 0;
        var pad = false;
        for (var space = 0; space < 3; space++)
        {
            if (_discarded[space] || _writeKeys[space] is null || (space == AppSpace && !_handshakeComplete))
            {
                continue;
            }

            if (TryBuildPacket(buffer[..limit], ref position, space, now, congestionBlocked, out var packet))
            {
                _pending[count++] = packet;

                // Datagrams with a client Initial, or a server's ack-eliciting Initial, are padded to 1200 (RFC 9000 §14.1).
                pad |= space == InitialSpace && (!_isServer || packet.AckEliciting);
            }
        }

        if (count == 0)
        {
            return false;
        }

        if (pad && position < 1200)
        {
            var extra = Math.Min(1200, limit) - position;
            if (extra > 0)
            {
                ref var last = ref _pending[count - 1];
                buffer.Slice(last.PayloadEnd, extra).Clear();
                last.PayloadEnd += extra;
                position += extra;
            }
        }

        var sentHandshake = false;
        for (var i = 0; i < count; i++)
        {
            ref var packet = ref _pending[i];
            var keys = _writeKeys[packet.Space]!;
            var headerLength = packet.PacketNumberOffset - packet.Start + packet.PacketNumberLength;
            var payloadLength = packet.PayloadEnd - packet.PacketNumberOffset - packet.PacketNumberLength;
            if (packet.LengthOffset >= 0)
            {
                VarInt.Write(buffer[packet.LengthOffset..], packet.PacketNumberLength + payloadLength + TagLength, 2);
            }

            var span = buffer[packet.Start..(packet.PayloadEnd + TagLength)];
            keys.Seal(span, headerLength, payloadLength, packet.PacketNumber);
            keys.HeaderProtection.Apply(span, packet.PacketNumberOffset - packet.Start, packet.PacketNumberLength);
            _recovery.OnPacketSent((PacketNumberSpace)packet.Space, packet.PacketNumber, span.Length, packet.AckEliciting, packet.AckEliciting, now, packet.Frames);
            PacketsSent++;
            sentHandshake |= packet.Space == HandshakeSpace;
            if (packet.AckEliciting && !_ackElicitingSentSinceReceive)
            {
                _ackElicitingSentSinceReceive = true;
                _idleDeadline = _idleTimeoutMicros > 0 ? now + Math.Max(_idleTimeoutMicros, 3 * CurrentPto()) : long.MaxValue;
            }

            packet.Frames = null!;
        }

        if (State == ConnectionState.Closing)
        {
            _closeSendPending = false;
        }

        length = position;
        BytesSent += position;
        _pacer.OnPacketSent(now, position);
        if (_isServer && !_addressValidated)
        {
            UnvalidatedBytesSent += position;
        }

        if (!_isServer && sentHandshake)
        {
            // A client drops its Initial keys when it first sends a Handshake packet (RFC 9001 §4.9.1).
            DiscardSpace(InitialSpace, now);
        }

        return true;
    }

    private bool HasAnythingToSend()
    {
        for (var space = 0; space < 3; space++)
        {
            if (!_discarded[space] && _writeKeys[space] is not null && (_cryptoSend[space].HasDataToSend || _trackers[space].HasAckToSend || _probes[space] > 0))
            {
                return true;
            }
        }

        return _closeSendPending;
    }

    private bool TryBuildPacket(Span<byte> buffer, ref int position, int space, long now, bool congestionBlocked, out PendingPacket packet)
    {
        packet = default;
        var start = position;
        if (buffer.Length - start < 64)
        {
            return false;
        }

        if (State == ConnectionState.Closing && _handshakeComplete && space != AppSpace)
        {
            return false;
        }

        var pn = _nextPacketNumber[space];
        var pnLength = PacketNumber.GetEncodedLength(pn, _recovery.LargestAcked((PacketNumberSpace)space));
        int headerLength;
        var lengthOffset = -1;
        if (space == AppSpace)
        {
            headerLength = PacketHeader.WriteShortHeader(buffer[start..], _writeKeyPhase, pnLength, _peerCid);
        }
        else
        {
            var token = space == InitialSpace && !_isServer ? _retryToken : null;
            if (buffer.Length - start < 64 + (token?.Length ?? 0))
            {
                return false;
            }

            headerLength = PacketHeader.WriteLongHeader(buffer[start..], space == InitialSpace ? PacketType.Initial : PacketType.Handshake, pnLength, _peerCid, _localIds.Count > 0 ? _localIds[0].Id : [], token, out lengthOffset);
            lengthOffset += start;
        }

        var pnOffset = start + headerLength;
        PacketNumber.Write(buffer[pnOffset..], pn, pnLength);
        var payloadStart = pnOffset + pnLength;
        var payloadLimit = buffer.Length - TagLength;
        if (payloadLimit - payloadStart < 16)
        {
            return false;
        }

        var writer = new QuicWriter(buffer[payloadStart..payloadLimit]);
        var frames = _framesPool.Count > 0 ? _framesPool.Pop() : new SentPacketFrames();
        var ackEliciting = false;
        if (State == ConnectionState.Closing)
        {
            // In Initial and Handshake packets an application close is sent as APPLICATION_ERROR (RFC 9000 §10.2.3).
            var application = _closeIsApplication && space == AppSpace;
            var code = _closeIsApplication && !application ? TransportErrorCode.ApplicationError : _closeErrorCode;
            var reason = System.Text.Encoding.UTF8.GetBytes(_closeReason);
            if (writer.Remaining < 24 + reason.Length)
            {
                reason = [];
            }

            FrameWriter.WriteConnectionClose(ref writer, application, code, _closeFrameType, application ? [] : reason);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.ConnectionClose });
        }
        else
        {
            var tracker = _trackers[space];
            var ackDue = tracker.HasAckToSend && (space != AppSpace || tracker.ShouldSendAckNow || tracker.IsAckDue(now));
            var ackWritten = tracker.HasAckToSend && TryWriteAck(ref writer, space, now, frames);
            if (!congestionBlocked || _probes[space] > 0)
            {
                ackEliciting = WriteContent(ref writer, space, frames);
            }

            if (_probes[space] > 0)
            {
                if (!ackEliciting && writer.Remaining > 0)
                {
                    FrameWriter.WritePing(ref writer);
                    frames.Frames.Add(new SentFrame { Kind = SentFrameKind.Ping });
                    ackEliciting = true;
                }

                _probes[space]--;
            }

            if (!ackEliciting && !ackDue)
            {
                Release(frames);
                return false;
            }

            if (ackWritten)
            {
                tracker.OnAckSent(now);
                AckFramesSent++;
            }
        }

        // Header protection samples 16 bytes starting 4 after the packet number (RFC 9001 §5.4.2).
        while (pnLength + writer.Position < 4)
        {
            writer.WriteByte(0);
        }

        packet = new PendingPacket
        {
            Space = space,
            Start = start,
            PacketNumberOffset = pnOffset,
            PacketNumberLength = pnLength,
            PayloadEnd = payloadStart + writer.Position,
            LengthOffset = lengthOffset,
            PacketNumber = pn,
            AckEliciting = ackEliciting,
            Frames = frames,
        };
        position = packet.PayloadEnd + TagLength;
        _nextPacketNumber[space]++;
        return true;
    }

    private bool TryWriteAck(ref QuicWriter writer, int space, long now, SentPacketFrames frames)
    {
        var count = _trackers[space].CopyAckRanges(_ackRanges);
        if (count == 0)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            _ackRangeValues[i] = new AckRangeValue(_ackRanges[i].Smallest, _ackRanges[i].Largest);
        }

        // Our ack_delay_exponent is the default 3 (RFC 9000 §18.2); Initial and Handshake ACKs carry no delay.
        var delay = space == AppSpace ? _trackers[space].GetAckDelay(now) >> 3 : 0;
        var ranges = _ackRangeValues.AsSpan(0, count);
        while (ranges.Length > 1 && FrameWriter.GetAckLength(delay, ranges) > writer.Remaining)
        {
            ranges = ranges[..^1];
        }

        if (FrameWriter.GetAckLength(delay, ranges) > writer.Remaining)
        {
            return false;
        }

        FrameWriter.WriteAck(ref writer, delay, ranges);
        frames.Frames.Add(new SentFrame { Kind = SentFrameKind.Ack, Value = ranges[0].Largest });
        return true;
    }

    /// <summary>Writes CRYPTO, control, datagram and stream frames as room allows; returns true when any was written.</summary>
    private bool WriteContent(ref QuicWriter writer, int space, SentPacketFrames frames)
    {
        var wrote = false;
        var crypto = _cryptoSend[space];
        while (crypto.HasDataToSend && writer.Remaining > 16)
        {
            var maxLength = writer.Remaining - FrameWriter.GetCryptoHeaderLength(crypto.WrittenEnd, writer.Remaining);
            if (maxLength <= 0 || !crypto.TryGetChunk(maxLength, long.MaxValue, out var offset, out var length, out _, out _) || length == 0)
            {
                break;
            }

            writer.WriteByte((byte)FrameType.Crypto);
            writer.WriteVarInt(offset);
            writer.WriteVarInt(length);
            crypto.CopyTo(offset, writer.Buffer.Slice(writer.Position, length));
            writer.Advance(length);
            crypto.OnSent(offset, length, false);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.Crypto, Offset = offset, Length = length });
            wrote = true;
        }

        if (space != AppSpace)
        {
            return wrote;
        }

        wrote |= WriteControlFrames(ref writer, frames);
        while (_datagramsOut.TryPeek(out var datagram) && writer.Remaining >= datagram.Length + 1 + VarInt.GetLength(datagram.Length))
        {
            _datagramsOut.Dequeue();
            FrameWriter.WriteDatagram(ref writer, datagram);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.Datagram });
            wrote = true;
        }

        var candidates = _sendQueue.Count;
        while (candidates-- > 0 && writer.Remaining > ControlFrameRoom && _sendQueue.First is { } node)
        {
            var stream = node.Value;
            _sendQueue.RemoveFirst();
            _queuedStreams.Remove(stream.Id);
            if (!_streams.ContainsKey(stream.Id))
            {
                continue;
            }

            wrote |= WriteStreamFrames(ref writer, stream, frames);
            if (CanMakeProgress(stream))
            {
                Enqueue(stream);
            }
        }

        return wrote;
    }

    private bool WriteControlFrames(ref QuicWriter writer, SentPacketFrames frames)
    {
        var wrote = false;
        if (_handshakeDonePending && writer.Remaining > 1)
        {
            FrameWriter.WriteHandshakeDone(ref writer);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.HandshakeDone });
            _handshakeDonePending = false;
            wrote = true;
        }

        if (_pathResponse is not null && writer.Remaining > 9)
        {
            FrameWriter.WritePathChallenge(ref writer, _pathResponse, response: true);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.PathResponse });
            _pathResponse = null;
            wrote = true;
        }

        if (_pathChallengePending && _pathChallenge is not null && writer.Remaining > 9)
        {
            FrameWriter.WritePathChallenge(ref writer, _pathChallenge, response: false);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.PathChallenge });
            _pathChallengePending = false;
            wrote = true;
        }

        if (_maxDataPending && writer.Remaining > ControlFrameRoom)
        {
            FrameWriter.WriteMaxData(ref writer, _localMaxData);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.MaxData, Value = _localMaxData });
            _maxDataPending = false;
            wrote = true;
        }

        if (_maxStreamsBidiPending && writer.Remaining > ControlFrameRoom)
        {
            FrameWriter.WriteMaxStreams(ref writer, true, _localMaxStreamsBidi);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.MaxStreamsBidi });
            _maxStreamsBidiPending = false;
            wrote = true;
        }

        if (_maxStreamsUniPending && writer.Remaining > ControlFrameRoom)
        {
            FrameWriter.WriteMaxStreams(ref writer, false, _localMaxStreamsUni);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.MaxStreamsUni });
            _maxStreamsUniPending = false;
            wrote = true;
        }

        if (_dataBlockedAt >= 0 && _dataBlockedAt != _dataBlockedSentAt && writer.Remaining > ControlFrameRoom)
        {
            FrameWriter.WriteDataBlocked(ref writer, _dataBlockedAt);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.DataBlocked });
            _dataBlockedSentAt = _dataBlockedAt;
            wrote = true;
        }

        if (_streamsBlockedBidiAt >= 0 && writer.Remaining > ControlFrameRoom)
        {
            FrameWriter.WriteStreamsBlocked(ref writer, true, _streamsBlockedBidiAt);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.StreamsBlockedBidi });
            _streamsBlockedBidiAt = -1;
            wrote = true;
        }

        if (_streamsBlockedUniAt >= 0 && writer.Remaining > ControlFrameRoom)
        {
            FrameWriter.WriteStreamsBlocked(ref writer, false, _streamsBlockedUniAt);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.StreamsBlockedUni });
            _streamsBlockedUniAt = -1;
            wrote = true;
        }

        Span<byte> token = stackalloc byte[StatelessReset.TokenLength];
        while (_newIdQueue.Count > 0 && writer.Remaining > 1 + 8 + 8 + 1 + 20 + 16)
        {
            var (sequence, id) = _newIdQueue.Dequeue();
            if (!_localIds.Exists(x => x.Sequence == sequence))
            {
                continue;
            }

            StatelessReset.ComputeToken(_settings.StatelessResetKey, id, token);
            FrameWriter.WriteNewConnectionId(ref writer, sequence, 0, id, token);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.NewConnectionId, Value = sequence });
            wrote = true;
        }

        while (_retireQueue.Count > 0 && writer.Remaining > ControlFrameRoom)
        {
            var sequence = _retireQueue.Dequeue();
            FrameWriter.WriteRetireConnectionId(ref writer, sequence);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.RetireConnectionId, Value = sequence });
            wrote = true;
        }

        return wrote;
    }

    private long NewDataLimit(QuicStreamState stream) =>
        Math.Min(stream.PeerMaxStreamData, stream.Send!.SendOffset + Math.Max(0, _peerMaxData - _sentData));

    private bool CanMakeProgress(QuicStreamState stream)
    {
        if (stream.ResetPending || stream.StopSendingPending || stream.MaxStreamDataPending || (stream.BlockedAt >= 0 && stream.BlockedAt != stream.BlockedSentAt))
        {
            return true;
        }

        if (stream.SendState is not (SendState.Send or SendState.DataSent))
        {
            return false;
        }

        var send = stream.Send!;
        return send.HasLostData || send.FinLost
            || (send.SendOffset < send.WrittenEnd && NewDataLimit(stream) > send.SendOffset)
            || (send.FinalSize is { } size && !send.FinSent && send.SendOffset == size);
    }

    private bool WriteStreamFrames(ref QuicWriter writer, QuicStreamState stream, SentPacketFrames frames)
    {
        var wrote = false;
        if (stream.ResetPending && writer.Remaining > ControlFrameRoom + 8)
        {
            FrameWriter.WriteResetStream(ref writer, stream.Id, stream.ResetCode, stream.Send!.SendOffset);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.ResetStream, StreamId = stream.Id });
            stream.ResetPending = false;
            wrote = true;
        }

        if (stream.StopSendingPending && writer.Remaining > ControlFrameRoom)
        {
            FrameWriter.WriteStopSending(ref writer, stream.Id, stream.StopSendingCode);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.StopSending, StreamId = stream.Id });
            stream.StopSendingPending = false;
            wrote = true;
        }

        if (stream.MaxStreamDataPending && writer.Remaining > ControlFrameRoom)
        {
            FrameWriter.WriteMaxStreamData(ref writer, stream.Id, stream.LocalMaxStreamData);
            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.MaxStreamData, StreamId = stream.Id });
            stream.MaxStreamDataPending = false;
            wrote = true;
        }

        if (stream.SendState is not (SendState.Send or SendState.DataSent))
        {
            MaybeForget(stream);
            return wrote;
        }

        var send = stream.Send!;
        while (writer.Remaining > ControlFrameRoom)
        {
            // Room for the type, stream ID, an 8-byte offset and a 2-byte length.
            var maxLength = writer.Remaining - (1 + VarInt.GetLength(stream.Id) + 8 + 2);
            if (!send.TryGetChunk(maxLength, NewDataLimit(stream), out var offset, out var length, out var fin, out var isNew))
            {
                break;
            }

            writer.WriteByte((byte)(FrameType.Stream | 0x02L | (offset != 0 ? 0x04L : 0L) | (fin ? 0x01L : 0L)));
            writer.WriteVarInt(stream.Id);
            if (offset != 0)
            {
                writer.WriteVarInt(offset);
            }

            writer.WriteVarInt(length, 2);
            send.CopyTo(offset, writer.Buffer.Slice(writer.Position, length));
            writer.Advance(length);
            send.OnSent(offset, length, fin);
            if (isNew)
            {
                _sentData += length;
            }

            if (fin)
            {
                stream.SendState = SendState.DataSent;
            }

            frames.Frames.Add(new SentFrame { Kind = SentFrameKind.Stream, StreamId = stream.Id, Offset = offset, Length = length, Fin = fin });
            wrote = true;
            if (length == 0)
            {
                break;
            }
        }

        // Say when flow control, not the application, is what stops us (RFC 9000 §4.1).
        if (send.SendOffset < send.WrittenEnd && writer.Remaining > ControlFrameRoom)
        {
            if (send.SendOffset >= stream.PeerMaxStreamData && stream.BlockedSentAt != stream.PeerMaxStreamData)
            {
                FrameWriter.WriteStreamDataBlocked(ref writer, stream.Id, stream.PeerMaxStreamData);
                frames.Frames.Add(new SentFrame { Kind = SentFrameKind.StreamDataBlocked, StreamId = stream.Id });
                stream.BlockedSentAt = stream.PeerMaxStreamData;
                stream.BlockedAt = stream.PeerMaxStreamData;
                wrote = true;
            }
            else if (_sentData >= _peerMaxData)
            {
                _dataBlockedAt = _peerMaxData;
            }
        }

        return wrote;
    }
}
