using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Switchyard.Quic.Udp;

/// <summary>What a <see cref="DatagramLoop"/> drives: a sans-I/O server endpoint or client connection.</summary>
internal interface IDatagramEndpoint
{
    long? NextDeadline { get; }

    void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now);

    bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now);

    void OnDeadline(long now);

    /// <summary>True when the loop may stop (a client connection that terminated).</summary>
    bool IsFinished { get; }

    /// <summary>
    /// True right after <see cref="Receive"/> when what that datagram caused should leave before the rest of the
    /// receive batch is read: an ACK that RFC 9000 §13.2.1 and §13.2.2 say to send at once.
    /// </summary>
    bool HasUrgentSend { get; }
}

/// <summary>
/// The driver (DESIGN.md): one socket and one thread that owns the sans-I/O endpoint, so a connection is only ever
/// touched by one thread. Application calls are posted to it as commands. Sends are batched with UDP GSO
/// (<c>UDP_SEGMENT</c>) when the kernel allows, and fall back to one datagram per send when it refuses.
/// </summary>
/// <remarks>
/// Receiving drains the socket in batches, but a batch does not delay ACKs: after each datagram the loop asks the
/// endpoint whether an ACK is owed now (<see cref="IDatagramEndpoint.HasUrgentSend"/>) and flushes before reading on.
/// A sender on loopback can put dozens of packets in the socket between two polls; acknowledging them once per batch
/// would starve its congestion controller of ACK clocking (RFC 9000 §13.2.2, RFC 9002 §7).
/// </remarks>
internal sealed class DatagramLoop : IDisposable
{
    private const int SolUdp = 17;
    private const int UdpSegment = 103;
    private const int MaxSegments = 32;
    private const int MaxDatagram = 1500;
    private const long MinimumWaitMicros = 1_000;

    private readonly Socket _socket;
    private readonly IDatagramEndpoint _endpoint;
    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly Thread _thread;
    private readonly byte[] _receiveBuffer = new byte[65536];
    private readonly byte[] _sendScratch = new byte[MaxDatagram];
    private readonly byte[] _batch = new byte[MaxDatagram * MaxSegments];
    private readonly SocketAddress _receiveAddress;
    private readonly Dictionary<SocketAddress, IPEndPoint> _endpointCache = new();
    private readonly Dictionary<IPEndPoint, SocketAddress> _addressCache = new();
    private readonly EndPoint _wakeTarget;
    private readonly byte[] _segmentOption = new byte[4];
    private readonly byte[] _noSegmentOption = new byte[4];
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stop;
    private bool _gso = true;

    // The UDP_SEGMENT size in force on the socket, 0 when none.
    private int _segmentSize;
    private int _wakePending;

    public DatagramLoop(Socket socket, IDatagramEndpoint endpoint, string name)
    {
        _socket = socket;
        _endpoint = endpoint;
        _socket.Blocking = false;
        _receiveAddress = new SocketAddress(socket.AddressFamily);
        var local = (IPEndPoint)socket.LocalEndPoint!;
        var loopback = local.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
        _wakeTarget = new IPEndPoint(local.Address.Equals(IPAddress.Any) || local.Address.Equals(IPAddress.IPv6Any) ? loopback : local.Address, local.Port);
        _thread = new Thread(Run) { IsBackground = true, Name = name };
    }

    /// <summary>Datagrams sent with GSO batches (more than one segment per send).</summary>
    public long GsoBatches { get; private set; }

    public bool GsoEnabled => _gso;

    /// <summary>Flushes made inside a receive batch because the endpoint owed an ACK at once.</summary>
    public long UrgentFlushes { get; private set; }

    public Task Stopped => _stopped.Task;

    public static long Now() => (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));

    public void Start() => _thread.Start();

    /// <summary>Runs <paramref name="action"/> on the loop thread.</summary>
    public void Post(Action action)
    {
        _commands.Enqueue(action);
        if (_stopped.Task.IsCompleted)
        {
            // The loop has ended (its endpoint finished): run what is left here, nothing else touches it now.
            while (_commands.TryDequeue(out var command))
            {
                command();
            }

            return;
        }

        Wake();
    }

    /// <summary>Runs <paramref name="func"/> on the loop thread and returns its result (or exception).</summary>
    public Task<T> Invoke<T>(Func<T> func)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try
            {
                completion.SetResult(func());
            }
            catch (Exception error)
            {
                completion.SetException(error);
            }
        });
        return completion.Task;
    }

    private void Wake()
    {
        if (Environment.CurrentManagedThreadId == _thread.ManagedThreadId || Interlocked.Exchange(ref _wakePending, 1) == 1)
        {
            return;
        }

        try
        {
            // An empty datagram to ourselves wakes the poll; the loop ignores empty datagrams.
            _socket.SendTo([], _wakeTarget);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Run()
    {
        try
        {
            while (!_stop)
            {
                Interlocked.Exchange(ref _wakePending, 0);
                while (_commands.TryDequeue(out var command))
                {
                    command();
                }

                var now = Now();
                if (_endpoint.NextDeadline is { } due && due <= now)
                {
                    _endpoint.OnDeadline(now);
                }

                Flush(now);
                if (_endpoint.IsFinished)
                {
                    break;
                }

                var timeout = _endpoint.NextDeadline is { } next ? Math.Clamp(next - Now(), 0, 1_000_000) : 1_000_000;
                if (!_commands.IsEmpty)
                {
                    continue;
                }

                if (timeout > 0)
                {
                    // poll(2) counts whole milliseconds: a shorter wait would return at once and spin the thread, so
                    // round it up. Timers tolerate it (RFC 9002 §6.1.2 kGranularity is 1 ms) and the pacer's bucket
                    // holds what accrues meanwhile.
                    timeout = Math.Max(timeout, MinimumWaitMicros);
                }

                if (_socket.Poll((int)timeout, SelectMode.SelectRead))
                {
                    ReceiveAll();
                }
            }
        }
        catch (ObjectDisposedException)
        {
        }
        catch (SocketException) when (_stop)
        {
        }
        finally
        {
            _stop = true;
            while (_commands.TryDequeue(out var command))
            {
                command();
            }

            _stopped.TrySetResult();
        }
    }

    private void ReceiveAll()
    {
        for (var i = 0; i < 256; i++)
        {
            int length;
            try
            {
                length = _socket.ReceiveFrom(_receiveBuffer, SocketFlags.None, _receiveAddress);
            }
            catch (SocketException error) when (error.SocketErrorCode is SocketError.WouldBlock or SocketError.ConnectionReset or SocketError.MessageSize)
            {
                if (error.SocketErrorCode == SocketError.WouldBlock)
                {
                    return;
                }

                continue;
            }

            if (length == 0)
            {
                continue;
            }

            if (!_endpointCache.TryGetValue(_receiveAddress, out var from))
            {
                from = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(_receiveAddress);
                if (_endpointCache.Count > 4096)
                {
                    _endpointCache.Clear();
                }

                var key = new SocketAddress(_receiveAddress.Family, _receiveAddress.Size);
                _receiveAddress.Buffer.Span.CopyTo(key.Buffer.Span);
                _endpointCache[key] = from;
            }

            _endpoint.Receive(_receiveBuffer.AsSpan(0, length), from, Now());
            if (_endpoint.HasUrgentSend)
            {
                UrgentFlushes++;
                Flush(Now());
            }
        }
    }

    private void Flush(long now)
    {
        var batchLength = 0;
        var segmentSize = 0;
        var segments = 0;
        IPEndPoint? batchTarget = null;
        while (_endpoint.TrySend(_sendScratch, out var length, out var to, now))
        {
            if (segments > 0 && (!_gso || !to.Equals(batchTarget) || length > segmentSize || segments == MaxSegments))
            {
                SendBatch(batchLength, segmentSize, segments, batchTarget!);
                segments = 0;
                batchLength = 0;
            }

            if (segments == 0)
            {
                segmentSize = length;
                batchTarget = to;
            }

            _sendScratch.AsSpan(0, length).CopyTo(_batch.AsSpan(batchLength));
            batchLength += length;
            segments++;
            if (length < segmentSize)
            {
                // A shorter datagram ends a GSO batch.
                SendBatch(batchLength, segmentSize, segments, batchTarget!);
                segments = 0;
                batchLength = 0;
            }
        }

        if (segments > 0)
        {
            SendBatch(batchLength, segmentSize, segments, batchTarget!);
        }
    }

    private void SendBatch(int length, int segmentSize, int segments, IPEndPoint to)
    {
        if (!_addressCache.TryGetValue(to, out var address))
        {
            address = to.Serialize();
            if (_addressCache.Count > 4096)
            {
                _addressCache.Clear();
            }

            _addressCache[to] = address;
        }

        if (segments > 1 && _gso)
        {
            try
            {
                // The option stays set between batches (one setsockopt per size change, not two per batch): the kernel
                // only segments a send longer than the size, so single datagrams no longer than it leave unchanged.
                SetSegmentSize(segmentSize);
                _socket.SendTo(_batch.AsSpan(0, length), SocketFlags.None, address);
                GsoBatches++;
                return;
            }
            catch (SocketException)
            {
                // The kernel refused GSO: send the segments one by one from now on.
                _gso = false;
                TryClearSegmentSize();
            }
        }
        else if (segments == 1 && _segmentSize != 0 && length > _segmentSize)
        {
            // A single datagram longer than the segment size in force would be cut into segments: clear it first.
            try
            {
                SetSegmentSize(0);
            }
            catch (SocketException)
            {
                _gso = false;
            }
        }

        for (var offset = 0; offset < length; offset += segmentSize)
        {
            var size = Math.Min(segmentSize, length - offset);
            try
            {
                _socket.SendTo(_batch.AsSpan(offset, size), SocketFlags.None, address);
            }
            catch (SocketException)
            {
                // A full socket buffer or an unreachable peer loses the datagram; QUIC recovers it.
            }
        }
    }

    private void SetSegmentSize(int size)
    {
        if (size == _segmentSize)
        {
            return;
        }

        BitConverter.TryWriteBytes(_segmentOption, size);
        _socket.SetRawSocketOption(SolUdp, UdpSegment, size == 0 ? _noSegmentOption : _segmentOption);
        _segmentSize = size;
    }

    private void TryClearSegmentSize()
    {
        try
        {
            _socket.SetRawSocketOption(SolUdp, UdpSegment, _noSegmentOption);
            _segmentSize = 0;
        }
        catch (SocketException)
        {
            // Never set, or the kernel has no UDP_SEGMENT at all: nothing is in force.
            _segmentSize = 0;
        }
    }

    public void Dispose()
    {
        _stop = true;
        Wake();
        if (Environment.CurrentManagedThreadId != _thread.ManagedThreadId && _thread.IsAlive)
        {
            _thread.Join(TimeSpan.FromSeconds(2));
        }

        _socket.Dispose();
    }
}
