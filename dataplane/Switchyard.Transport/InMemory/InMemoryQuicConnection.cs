using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;

namespace Switchyard.Transport.InMemory;

/// <summary>
/// One side of an in-process QUIC connection, for tests of the protocols above QUIC (HTTP/3, WebTransport).
/// It keeps the semantics those protocols rely on and nothing else: stream IDs and directions per RFC 9000 §2.1,
/// FIN, RESET_STREAM and STOP_SENDING surfacing as <see cref="QuicException"/> with
/// <see cref="QuicError.StreamAborted"/> and the code, bounded per-stream buffers that make writers wait
/// (flow control, RFC 9000 §4), MAX_STREAMS-like limits that make openers wait (RFC 9000 §4.6), unreliable
/// datagrams (RFC 9221) and connection close with an application error code (RFC 9000 §10.2).
/// </summary>
/// <remarks>Create pairs with <see cref="InMemoryQuicTransport.CreateConnectionPair"/> or through
/// <see cref="InMemoryQuicTransport.ConnectAsync"/>.</remarks>
public sealed class InMemoryQuicConnection : IQuicConnection
{
    private readonly object _lock = new();
    private readonly Channel<InMemoryQuicStream> _inbound = Channel.CreateUnbounded<InMemoryQuicStream>();
    private readonly Channel<ReadOnlyMemory<byte>> _datagrams;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<InMemoryStreamPipe> _pipes = new();
    private readonly bool _isClient;
    private InMemoryQuicConnection _peer = null!;
    private SemaphoreSlim _bidiCredits = null!;   // the peer's MAX_STREAMS for streams this side opens
    private SemaphoreSlim _uniCredits = null!;
    private long _nextBidi;
    private long _nextUni;
    private long _datagramsSent;
    private long _datagramsReceived;
    private long _bytesSent;
    private volatile Exception? _terminalError;

    internal InMemoryQuicConnection(bool isClient, InMemoryQuicConnectionOptions options, IPEndPoint local, IPEndPoint remote, string? targetHostName)
    {
        _isClient = isClient;
        Options = options;
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        TargetHostName = targetHostName;
        _datagrams = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(Math.Max(1, options.DatagramReceiveQueueLength))
        {
            FullMode = BoundedChannelFullMode.DropWrite,
        });
        _nextBidi = isClient ? 0 : 1;
        _nextUni = isClient ? 2 : 3;
    }

    /// <summary>Links two sides; called once per pair.</summary>
    internal static void Link(InMemoryQuicConnection client, InMemoryQuicConnection server)
    {
        client._peer = server;
        server._peer = client;
        client._bidiCredits = new SemaphoreSlim(server.Options.MaxInboundBidirectionalStreams);
        client._uniCredits = new SemaphoreSlim(server.Options.MaxInboundUnidirectionalStreams);
        server._bidiCredits = new SemaphoreSlim(client.Options.MaxInboundBidirectionalStreams);
        server._uniCredits = new SemaphoreSlim(client.Options.MaxInboundUnidirectionalStreams);
    }

    /// <summary>The options this side advertised.</summary>
    public InMemoryQuicConnectionOptions Options { get; }

    /// <summary>True for the side that connected.</summary>
    public bool IsClient => _isClient;

    /// <summary>The peer side of this connection.</summary>
    public InMemoryQuicConnection Peer => _peer;

    /// <inheritdoc />
    public IPEndPoint RemoteEndPoint { get; }

    /// <inheritdoc />
    public IPEndPoint LocalEndPoint { get; }

    /// <inheritdoc />
    public string NegotiatedApplicationProtocol => Options.ApplicationProtocol;

    /// <inheritdoc />
    public string? TargetHostName { get; }

    /// <inheritdoc />
    public X509Certificate2? RemoteCertificate => null;

    /// <inheritdoc />
    public int MaxDatagramPayloadSize => _peer.Options.MaxDatagramFrameSize == 0 || Options.MaxDatagramFrameSize == 0
        ? 0
        : Math.Min(_peer.Options.MaxDatagramFrameSize, Options.PathMaxDatagramPayload);

    /// <inheritdoc />
    public Task Closed => _closed.Task;

    /// <summary>The error every operation on this side fails with once the connection is closed, or null while open.</summary>
    internal Exception? TerminalError => _terminalError;

    /// <inheritdoc />
    public async ValueTask<IQuicStream> OpenOutboundStreamAsync(QuicStreamType type, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        SemaphoreSlim credits = type == QuicStreamType.Bidirectional ? _bidiCredits : _uniCredits;
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            // Waiting for MAX_STREAMS credit must end when the connection closes.
            Task waitCredit = credits.WaitAsync(linked.Token);
            Task done = await Task.WhenAny(waitCredit, _closed.Task).ConfigureAwait(false);
            if (done != waitCredit)
            {
                linked.Cancel();
                ThrowIfClosed();
            }

            await waitCredit.ConfigureAwait(false);
        }

        try
        {
            ThrowIfClosed();
        }
        catch
        {
            credits.Release();
            throw;
        }

        long id;
        lock (_lock)
        {
            if (type == QuicStreamType.Bidirectional)
            {
                id = _nextBidi;
                _nextBidi += 4;
            }
            else
            {
                id = _nextUni;
                _nextUni += 4;
            }
        }

        int remaining = type == QuicStreamType.Bidirectional ? 2 : 1;
        void OnPipeTerminal()
        {
            if (Interlocked.Decrement(ref remaining) == 0)
            {
                // Both halves are done: the peer would now raise MAX_STREAMS.
                credits.Release();
            }
        }

        var outbound = new InMemoryStreamPipe(this, _peer, _peer.Options.StreamReceiveWindow, OnPipeTerminal);
        InMemoryStreamPipe? inbound = type == QuicStreamType.Bidirectional
            ? new InMemoryStreamPipe(_peer, this, Options.StreamReceiveWindow, OnPipeTerminal)
            : null;
        Track(outbound);
        if (inbound is not null)
        {
            Track(inbound);
        }

        int announced = 0;
        InMemoryQuicStream? remote = null;
        void Announce()
        {
            if (Interlocked.Exchange(ref announced, 1) == 0)
            {
                _peer._inbound.Writer.TryWrite(remote!);
            }
        }

        remote = new InMemoryQuicStream(id, type, _peer, outbound, inbound, Announce);
        return new InMemoryQuicStream(id, type, this, inbound, outbound, Announce);
    }

    /// <inheritdoc />
    public async ValueTask<IQuicStream> AcceptInboundStreamAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<bool> wait = _inbound.Reader.WaitToReadAsync(linked.Token).AsTask();
        while (true)
        {
            if (_inbound.Reader.TryRead(out InMemoryQuicStream? stream))
            {
                linked.Cancel();
                return stream;
            }

            Task done = await Task.WhenAny(wait, _closed.Task).ConfigureAwait(false);
            if (done != wait)
            {
                linked.Cancel();
                ThrowIfClosed();
            }

            await wait.ConfigureAwait(false);
            wait = _inbound.Reader.WaitToReadAsync(linked.Token).AsTask();
        }
    }

    /// <inheritdoc />
    public bool TrySendDatagram(ReadOnlySpan<byte> payload)
    {
        if (_terminalError is not null || payload.Length > MaxDatagramPayloadSize)
        {
            return false;
        }

        if (!_peer._datagrams.Writer.TryWrite(payload.ToArray()))
        {
            return false;
        }

        Interlocked.Increment(ref _datagramsSent);
        Interlocked.Add(ref _bytesSent, payload.Length);
        Interlocked.Increment(ref _peer._datagramsReceived);
        return true;
    }

    /// <inheritdoc />
    public async ValueTask<ReadOnlyMemory<byte>> ReceiveDatagramAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            if (_datagrams.Reader.TryRead(out ReadOnlyMemory<byte> datagram))
            {
                return datagram;
            }

            Task<bool> wait = _datagrams.Reader.WaitToReadAsync(linked.Token).AsTask();
            Task done = await Task.WhenAny(wait, _closed.Task).ConfigureAwait(false);
            if (done != wait)
            {
                linked.Cancel();
                ThrowIfClosed();
            }

            await wait.ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public ValueTask CloseAsync(long applicationErrorCode, CancellationToken cancellationToken = default)
    {
        CloseCore(
            new QuicException(QuicError.OperationAborted, null, null, "The connection was closed locally."),
            new QuicException(QuicError.ConnectionAborted, applicationErrorCode, null, $"The peer closed the connection with application error 0x{applicationErrorCode:x} (CONNECTION_CLOSE 0x1d, RFC 9000 §19.19)."));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public QuicConnectionStatistics GetStatistics() => new()
    {
        PacketsSent = Interlocked.Read(ref _datagramsSent),
        PacketsReceived = Interlocked.Read(ref _datagramsReceived),
        BytesSent = Interlocked.Read(ref _bytesSent),
        SmoothedRtt = TimeSpan.Zero,
        MinRtt = TimeSpan.Zero,
    };

    /// <summary>Closes the connection with <see cref="InMemoryQuicConnectionOptions.DefaultCloseErrorCode"/> if still open.</summary>
    public ValueTask DisposeAsync() => CloseAsync(Options.DefaultCloseErrorCode);

    /// <inheritdoc />
    public override string ToString() => $"in-memory {(_isClient ? "client" : "server")} {LocalEndPoint} -> {RemoteEndPoint}";

    private void Track(InMemoryStreamPipe pipe)
    {
        lock (_lock)
        {
            _pipes.Add(pipe);
        }
    }

    private void CloseCore(Exception local, Exception remote)
    {
        lock (_lock)
        {
            if (_terminalError is not null)
            {
                return;
            }

            _terminalError = local;
            _peer._terminalError ??= remote;
        }

        InMemoryStreamPipe[] pipes;
        lock (_lock)
        {
            pipes = [.. _pipes];
        }

        InMemoryStreamPipe[] peerPipes;
        lock (_peer._lock)
        {
            peerPipes = [.. _peer._pipes];
        }

        foreach (InMemoryStreamPipe pipe in pipes.Concat(peerPipes))
        {
            pipe.OnConnectionClosed();
        }

        _closed.TrySetResult();
        _peer._closed.TrySetResult();
    }

    private void ThrowIfClosed()
    {
        if (_terminalError is Exception error)
        {
            throw error;
        }
    }
}
