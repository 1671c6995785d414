using Switchyard.Quic.Packets;
using Switchyard.Quic.Protection;
using Switchyard.Quic.Streams;
using Switchyard.Transport;

namespace Switchyard.Quic.Connection;

/// <summary>The application's commands: streams (RFC 9000 §2–§4) and datagrams (RFC 9221).</summary>
internal sealed partial class QuicConnection
{
    /// <summary>Opens a stream if the peer's MAX_STREAMS allows; otherwise queues STREAMS_BLOCKED and returns false.</summary>
    public bool TryOpenStream(bool bidirectional, out long streamId)
    {
        streamId = -1;
        if (!_handshakeComplete || State != ConnectionState.Established || _peerParameters is null)
        {
            return false;
        }

        ref var opened = ref bidirectional ? ref _openedLocalBidi : ref _openedLocalUni;
        var max = bidirectional ? _peerMaxStreamsBidi : _peerMaxStreamsUni;
        if (opened >= max)
        {
            if (bidirectional)
            {
                _streamsBlockedBidiAt = max;
            }
            else
            {
                _streamsBlockedUniAt = max;
            }

            return false;
        }

        streamId = (opened << 2) | (_isServer ? 1L : 0L) | (bidirectional ? 0L : 2L);
        opened++;
        var sendLimit = bidirectional ? _peerParameters.InitialMaxStreamDataBidiRemote : _peerParameters.InitialMaxStreamDataUni;
        _streams.Add(streamId, new QuicStreamState(streamId, _isServer, _settings.StreamSendBuffer, _settings.StreamReceiveWindow, sendLimit));
        return true;
    }

    /// <summary>Takes the next stream the peer opened, if any.</summary>
    public bool TryAcceptStream(out long streamId) => _acceptQueue.TryDequeue(out streamId);

    public QuicStreamState? GetStream(long streamId) => _streams.GetValueOrDefault(streamId);

    public void SetStreamHandle(long streamId, object handle)
    {
        if (_streams.TryGetValue(streamId, out var stream))
        {
            stream.Handle = handle;
        }
    }

    /// <summary>Buffers as much of <paramref name="data"/> as the send buffer takes; returns the count (0 means wait).</summary>
    /// <exception cref="QuicException">The peer stopped the stream, or the connection closed.</exception>
    public int StreamWrite(long streamId, ReadOnlySpan<byte> data)
    {
        var stream = WritableStream(streamId);
        var taken = stream.Send!.Append(data);
        if (taken > 0)
        {
            if (stream.SendState == SendState.Ready)
            {
                stream.SendState = SendState.Send;
            }

            Enqueue(stream);
        }

        return taken;
    }

    /// <summary>Marks the end of the stream (FIN, RFC 9000 §3.1).</summary>
    public void StreamFinish(long streamId)
    {
        var stream = WritableStream(streamId);
        stream.Send!.Finish();
        if (stream.SendState == SendState.Ready)
        {
            stream.SendState = SendState.Send;
        }

        Enqueue(stream);
    }

    /// <summary>The code of the peer's STOP_SENDING on a stream we still track, or null.</summary>
    public long? StreamPeerStopSendingCode(long streamId) =>
        _streams.TryGetValue(streamId, out var stream) ? stream.PeerStopSendingCode : null;

    private QuicStreamState WritableStream(long streamId)
    {
        ThrowIfClosed();
        if (!_streams.TryGetValue(streamId, out var stream) || !stream.CanSend)
        {
            throw new InvalidOperationException($"Stream {streamId} cannot be written.");
        }

        if (stream.PeerStopSendingCode is { } code)
        {
            throw new QuicException(QuicError.StreamAborted, code, null, $"The peer sent STOP_SENDING with code {code}.");
        }

        if (stream.SendState is SendState.ResetSent or SendState.ResetRecvd)
        {
            throw new QuicException(QuicError.OperationAborted, null, null, "The stream's writes were aborted.");
        }

        return stream;
    }

    /// <summary>Space left in the stream's send buffer.</summary>
    public int StreamWritableBytes(long streamId) =>
        _streams.TryGetValue(streamId, out var stream) && stream.Send is not null ? stream.Send.FreeSpace : 0;

    /// <summary>True once all data and the FIN were acknowledged, or the send side was reset.</summary>
    public bool StreamWritesClosed(long streamId) =>
        !_streams.TryGetValue(streamId, out var stream) || stream.SendTerminal || stream.SendState == SendState.ResetSent;

    /// <summary>
    /// Reads received data in order. Returns the bytes read; <paramref name="finished"/> is true once the FIN has been
    /// read. Returns 0 with <paramref name="finished"/> false when nothing is ready yet.
    /// </summary>
    /// <exception cref="QuicException">The peer reset the stream, or the connection closed.</exception>
    public int StreamRead(long streamId, Span<byte> destination, out bool finished)
    {
        finished = false;
        if (!_streams.TryGetValue(streamId, out var stream))
        {
            finished = true;
            return 0;
        }

        if (!stream.CanReceive)
        {
            throw new InvalidOperationException($"Stream {streamId} cannot be read.");
        }

        if (stream.ReceiveState is ReceiveState.ResetRecvd or ReceiveState.ResetRead)
        {
            stream.ReceiveState = ReceiveState.ResetRead;
            MaybeForget(stream);
            throw new QuicException(QuicError.StreamAborted, stream.PeerResetCode, null, $"The peer reset the stream with code {stream.PeerResetCode}.");
        }

        if (stream.ReceiveState == ReceiveState.DataRead)
        {
            finished = true;
            return 0;
        }

        var count = stream.Receive!.Read(destination);
        if (count > 0)
        {
            OnBytesConsumed(stream, count);
        }

        if (stream.FinalSize is { } size && stream.Receive.ReadOffset == size)
        {
            stream.ReceiveState = ReceiveState.DataRead;
            finished = true;
            MaybeForget(stream);
        }
        else if (count == 0)
        {
            ThrowIfClosed();
        }

        return count;
    }

    /// <summary>Stops reading: STOP_SENDING (RFC 9000 §3.5).</summary>
    public void StreamAbortRead(long streamId, long errorCode)
    {
        if (!_streams.TryGetValue(streamId, out var stream) || !stream.CanReceive || stream.ReceiveTerminal)
        {
            return;
        }

        if (stream.ReceiveState is ReceiveState.Recv or ReceiveState.SizeKnown)
        {
            stream.StopSendingPending = true;
            stream.StopSendingCode = errorCode;
            stream.MaxStreamDataPending = false;
        }

        var unread = (int)stream.Receive!.ReadableBytes;
        stream.Receive.Consume(unread);
        OnBytesConsumed(null, unread);
        stream.ReceiveState = ReceiveState.DataRead;
        Enqueue(stream);
        MaybeForget(stream);
    }

    /// <summary>Abandons sending: RESET_STREAM (RFC 9000 §3.1, §19.4).</summary>
    public void StreamAbortWrite(long streamId, long errorCode)
    {
        if (_streams.TryGetValue(streamId, out var stream) && stream.CanSend)
        {
            ResetSendSide(stream, errorCode);
        }
    }

    private void OnBytesConsumed(QuicStreamState? stream, long count)
    {
        // Window updates follow what the application has read, so a slow reader pushes back (RFC 9000 §4.2).
        _consumedData += count;
        if (_localMaxData - _consumedData < _settings.ConnectionReceiveWindow / 2)
        {
            _localMaxData = _consumedData + _settings.ConnectionReceiveWindow;
            _maxDataPending = true;
        }

        if (stream is not null && stream.ReceiveState == ReceiveState.Recv
            && stream.LocalMaxStreamData - stream.Receive!.ReadOffset < stream.ReceiveWindow / 2)
        {
            stream.LocalMaxStreamData = stream.Receive.ReadOffset + stream.ReceiveWindow;
            stream.MaxStreamDataPending = true;
            Enqueue(stream);
        }
    }

    private void MaybeForget(QuicStreamState stream)
    {
        if (!stream.SendTerminal || !stream.ReceiveTerminal || stream.ResetPending || stream.StopSendingPending)
        {
            return;
        }

        if (!_streams.Remove(stream.Id))
        {
            return;
        }

        if (!stream.IsLocal)
        {
            // A closed peer stream makes room for another (RFC 9000 §4.6).
            if (stream.IsBidirectional)
            {
                _closedPeerBidi++;
                _localMaxStreamsBidi = _closedPeerBidi + _settings.MaxInboundBidiStreams;
                _maxStreamsBidiPending = true;
            }
            else
            {
                _closedPeerUni++;
                _localMaxStreamsUni = _closedPeerUni + _settings.MaxInboundUniStreams;
                _maxStreamsUniPending = true;
            }
        }
    }

    private void Enqueue(QuicStreamState stream)
    {
        if (_queuedStreams.Add(stream.Id))
        {
            _sendQueue.AddLast(stream);
        }
    }

    private void NotifyAllWritable()
    {
        foreach (var stream in _streams.Values)
        {
            if (stream.CanSend)
            {
                if (stream.Send!.HasDataToSend)
                {
                    Enqueue(stream);
                }

                Events.OnStreamWritable(new QuicStreamStateRef(stream.Id, stream.Handle));
            }
        }
    }

    private void ThrowIfClosed()
    {
        if (State is ConnectionState.Closing or ConnectionState.Draining or ConnectionState.Terminated)
        {
            throw CloseError ?? new QuicException(QuicError.OperationAborted, null, null, "The connection is closed.");
        }
    }

    /// <summary>True when the peer can open another stream of this kind now.</summary>
    public bool CanOpenStream(bool bidirectional) =>
        _handshakeComplete && _peerParameters is not null
        && (bidirectional ? _openedLocalBidi < _peerMaxStreamsBidi : _openedLocalUni < _peerMaxStreamsUni);

    // ---------------------------------------------------------------- Datagrams (RFC 9221)

    /// <summary>The largest DATAGRAM payload that fits both the peer's limit and one packet.</summary>
    public int MaxDatagramPayloadSize
    {
        get
        {
            if (_peerParameters is not { MaxDatagramFrameSize: > 0 } parameters)
            {
                return 0;
            }

            // Short header (1 + CID + 4-byte PN) and AEAD tag, then the frame's type and length.
            var packetRoom = _settings.MaxDatagramSize - (1 + _peerCid.Length + 4) - PacketProtection.TagLength - 1 - 2;
            var frameRoom = (int)Math.Min(int.MaxValue, parameters.MaxDatagramFrameSize) - 1 - 2;
            return Math.Max(0, Math.Min(packetRoom, frameRoom));
        }
    }

    /// <summary>Queues a datagram; false when it does not fit or the bounded queue is full.</summary>
    public bool TrySendDatagram(ReadOnlySpan<byte> payload)
    {
        if (State != ConnectionState.Established || payload.Length > MaxDatagramPayloadSize || _datagramsOut.Count >= _settings.DatagramQueueLength)
        {
            return false;
        }

        _datagramsOut.Enqueue(payload.ToArray());
        return true;
    }

    public bool TryReceiveDatagram(out byte[] payload) => _datagramsIn.TryDequeue(out payload!);

    /// <summary>A copy of the counters and recovery state.</summary>
    public QuicConnectionStatistics GetStatistics() => new()
    {
        SmoothedRtt = TimeSpan.FromMicroseconds(_recovery.Rtt.SmoothedRtt),
        MinRtt = TimeSpan.FromMicroseconds(_recovery.Rtt.MinRtt),
        CongestionWindow = _recovery.CongestionController.CongestionWindow,
        BytesInFlight = _recovery.BytesInFlight,
        PacketsSent = PacketsSent,
        PacketsReceived = PacketsReceived,
        PacketsLost = PacketsLost,
        BytesSent = BytesSent,
        BytesReceived = BytesReceived,
        KeyUpdatesInitiated = KeyUpdatesInitiated,
        KeyPhaseChanges = KeyUpdateCount,
        UnvalidatedBytesReceived = UnvalidatedBytesReceived,
        UnvalidatedBytesSent = UnvalidatedBytesSent,
        AmplificationLimitedCount = AmplificationLimitedCount,
    };
}
