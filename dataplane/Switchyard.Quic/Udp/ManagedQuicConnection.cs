using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Switchyard.Quic.Connection;
using Switchyard.Transport;

namespace Switchyard.Quic.Udp;

/// <summary>
/// <see cref="IQuicConnection"/> over a sans-I/O <see cref="QuicConnection"/>: every call is posted to the loop
/// thread that owns it, and the connection's events complete the waiting tasks.
/// </summary>
internal sealed class ManagedQuicConnection : IQuicConnection, IQuicKeyUpdateInitiator, IConnectionEvents
{
    private readonly DatagramLoop _loop;
    private readonly TaskCompletionSource _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<ReadOnlyMemory<byte>> _datagrams = Channel.CreateUnbounded<ReadOnlyMemory<byte>>();
    private readonly IPEndPoint _local;
    private readonly bool _ownsLoop;
    private TaskCompletionSource? _acceptWaiter;
    private TaskCompletionSource? _openWaiter;
    private TaskCompletionSource? _keyUpdateWaiter;
    private int _disposed;

    public ManagedQuicConnection(QuicConnection connection, DatagramLoop loop, IPEndPoint local, bool ownsLoop)
    {
        Connection = connection;
        _loop = loop;
        _local = local;
        _ownsLoop = ownsLoop;
    }

    public QuicConnection Connection { get; }

    /// <summary>Completes when the handshake completes; faults when the connection closes first.</summary>
    public Task HandshakeCompleted => _handshake.Task;

    /// <summary>Set by the listener to hear about completed handshakes.</summary>
    public Action<ManagedQuicConnection>? HandshakeCallback { get; set; }

    public IPEndPoint RemoteEndPoint => Connection.RemoteEndPoint;

    public IPEndPoint LocalEndPoint => _local;

    public string NegotiatedApplicationProtocol { get; private set; } = string.Empty;

    public string? TargetHostName { get; private set; }

    public X509Certificate2? RemoteCertificate { get; private set; }

    public int MaxDatagramPayloadSize { get; private set; }

    public Task Closed => _closed.Task;

    internal DatagramLoop Loop => _loop;

    public async ValueTask<IQuicStream> OpenOutboundStreamAsync(QuicStreamType type, CancellationToken cancellationToken = default)
    {
        var bidirectional = type == QuicStreamType.Bidirectional;
        while (true)
        {
            var (id, waiter) = await _loop.Invoke(() =>
            {
                ThrowIfClosed();
                if (Connection.TryOpenStream(bidirectional, out var streamId))
                {
                    var stream = new ManagedQuicStream(this, streamId);
                    Connection.SetStreamHandle(streamId, stream);
                    return (streamId, (Task?)null);
                }

                _openWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return (-1L, _openWaiter.Task);
            }).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (waiter is null)
            {
                return await _loop.Invoke(() => (ManagedQuicStream)Connection.GetStream(id)!.Handle!).ConfigureAwait(false);
            }

            await waiter.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<IQuicStream> AcceptInboundStreamAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var (stream, waiter) = await _loop.Invoke(() =>
            {
                if (Connection.TryAcceptStream(out var id))
                {
                    var accepted = new ManagedQuicStream(this, id);
                    Connection.SetStreamHandle(id, accepted);
                    return (accepted, (Task?)null);
                }

                ThrowIfClosed();
                _acceptWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return ((ManagedQuicStream?)null, _acceptWaiter.Task);
            }).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (stream is not null)
            {
                return stream;
            }

            await waiter!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public bool TrySendDatagram(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > MaxDatagramPayloadSize || _closed.Task.IsCompleted)
        {
            return false;
        }

        var copy = payload.ToArray();
        _loop.Post(() => Connection.TrySendDatagram(copy));
        return true;
    }

    public async ValueTask<ReadOnlyMemory<byte>> ReceiveDatagramAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _datagrams.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw CloseException();
        }
    }

    public async ValueTask CloseAsync(long applicationErrorCode, CancellationToken cancellationToken = default)
    {
        await _loop.Invoke(() =>
        {
            Connection.Close(applicationErrorCode, string.Empty, DatagramLoop.Now());
            return true;
        }).ConfigureAwait(false);
    }

    public QuicConnectionStatistics GetStatistics() => Connection.GetStatistics();

    /// <inheritdoc />
    public async ValueTask RequestKeyUpdateAsync(CancellationToken cancellationToken = default)
    {
        var started = await _loop.Invoke(() =>
        {
            ThrowIfClosed();
            _keyUpdateWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var waiter = _keyUpdateWaiter.Task;
            Connection.ScheduleKeyUpdate();
            return waiter;
        }).WaitAsync(cancellationToken).ConfigureAwait(false);
        await started.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        try
        {
            await CloseAsync(0).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }

        if (_ownsLoop)
        {
            // Give the CONNECTION_CLOSE a moment to leave, then stop the client's loop.
            await Task.WhenAny(_loop.Stopped, Task.Delay(200)).ConfigureAwait(false);
            _loop.Dispose();
        }
    }

    internal void ThrowIfClosed()
    {
        if (Connection.CloseError is not null)
        {
            throw CloseException();
        }
    }

    internal QuicException CloseException() =>
        Connection.CloseError ?? new QuicException(QuicError.OperationAborted, null, null, "The connection is closed.");

    // ---------------------------------------------------------------- Events (on the loop thread)

    public void OnHandshakeCompleted()
    {
        NegotiatedApplicationProtocol = Connection.NegotiatedApplicationProtocol ?? string.Empty;
        TargetHostName = Connection.ServerName;
        RemoteCertificate = Connection.PeerCertificate;
        MaxDatagramPayloadSize = Connection.MaxDatagramPayloadSize;
        _handshake.TrySetResult();
        HandshakeCallback?.Invoke(this);
    }

    public void OnStreamOpened(QuicStreamStateRef stream) => Signal(ref _acceptWaiter);

    public void OnStreamReadable(QuicStreamStateRef stream) => (stream.Handle as ManagedQuicStream)?.SignalReadable();

    public void OnStreamWritable(QuicStreamStateRef stream) => (stream.Handle as ManagedQuicStream)?.SignalWritable();

    public void OnStreamsAvailable() => Signal(ref _openWaiter);

    public void OnDatagramReceived()
    {
        while (Connection.TryReceiveDatagram(out var payload))
        {
            _datagrams.Writer.TryWrite(payload);
        }
    }

    public void OnClosed(QuicException error)
    {
        _handshake.TrySetException(error);
        _ = _handshake.Task.Exception;
        _datagrams.Writer.TryComplete();
        Signal(ref _acceptWaiter);
        Signal(ref _openWaiter);
        var keyUpdate = _keyUpdateWaiter;
        _keyUpdateWaiter = null;
        keyUpdate?.TrySetException(CloseException());
        _ = keyUpdate?.Task.Exception;
        foreach (var stream in ManagedQuicStream.All(this))
        {
            stream.SignalReadable();
            stream.SignalWritable();
        }

        _closed.TrySetResult();
    }

    public void OnConnectionIdIssued(byte[] connectionId)
    {
    }

    public void OnConnectionIdRetired(byte[] connectionId)
    {
    }

    public void OnKeyUpdateStarted() => Signal(ref _keyUpdateWaiter);

    private static void Signal(ref TaskCompletionSource? waiter)
    {
        var current = waiter;
        waiter = null;
        current?.TrySetResult();
    }
}
