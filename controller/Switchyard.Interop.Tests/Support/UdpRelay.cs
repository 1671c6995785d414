using System.Net;
using System.Net.Sockets;

namespace Switchyard.Interop.Tests.Support;

/// <summary>
/// A UDP relay between one QUIC client and a server, for what the peers cannot do themselves: drop a share of the
/// datagrams each way (seeded, so a failure can be replayed), and count bytes around address validation to check the
/// server's anti-amplification limit (RFC 9000 §8.1) from outside.
/// </summary>
/// <remarks>
/// The server's address counts as validated once the relay forwards a client Handshake packet or an Initial that
/// carries a token (RFC 9000 §8.1, §8.1.2). Until then every server datagram is checked against three times the
/// client bytes that reached the server.
/// </remarks>
internal sealed class UdpRelay : IAsyncDisposable
{
    private readonly Socket _front;
    private readonly Socket _back;
    private readonly IPEndPoint _server;
    private readonly double _dropToServer;
    private readonly double _dropToClient;
    private readonly Random _random;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _toServer;
    private readonly Task _toClient;
    private IPEndPoint? _client;
    private bool _validated;

    public UdpRelay(IPEndPoint server, double dropToServer = 0, double dropToClient = 0, int seed = 1)
    {
        _server = server;
        _dropToServer = dropToServer;
        _dropToClient = dropToClient;
        _random = new Random(seed);
        _front = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 << 20, SendBufferSize = 4 << 20 };
        _front.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _back = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 << 20, SendBufferSize = 4 << 20 };
        _back.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        LocalEndPoint = (IPEndPoint)_front.LocalEndPoint!;
        _toServer = Task.Run(ClientToServerAsync);
        _toClient = Task.Run(ServerToClientAsync);
    }

    /// <summary>Where the client should send.</summary>
    public IPEndPoint LocalEndPoint { get; }

    public long ClientBytesForwarded { get; private set; }

    public long ServerBytesReceived { get; private set; }

    public long DroppedToServer { get; private set; }

    public long DroppedToClient { get; private set; }

    /// <summary>The server sent a Retry packet.</summary>
    public bool RetrySeen { get; private set; }

    /// <summary>The client sent an Initial that carries a token, after a Retry.</summary>
    public bool TokenInitialAfterRetrySeen { get; private set; }

    /// <summary>Server bytes sent before the address was validated.</summary>
    public long ServerBytesBeforeValidation { get; private set; }

    /// <summary>Client bytes that reached the server before the address was validated.</summary>
    public long ClientBytesBeforeValidation { get; private set; }

    /// <summary>Server datagrams that, when sent, took the server past three times what it had received.</summary>
    public List<string> AmplificationViolations { get; } = new();

    public string Describe()
    {
        lock (_gate)
        {
            return $"relay: client→server forwarded {ClientBytesForwarded} B (dropped {DroppedToServer} datagrams), server→client {ServerBytesReceived} B (dropped {DroppedToClient}); " +
                $"retry seen {RetrySeen}, token Initial after retry {TokenInitialAfterRetrySeen}, validated {_validated}, before validation server {ServerBytesBeforeValidation} B / client {ClientBytesBeforeValidation} B";
        }
    }

    private async Task ClientToServerAsync()
    {
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _front.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            var datagram = buffer.AsMemory(0, received.ReceivedBytes);
            var kinds = QuicDatagramInspector.Inspect(datagram.Span);
            lock (_gate)
            {
                _client = (IPEndPoint)received.RemoteEndPoint;
                if (_random.NextDouble() < _dropToServer)
                {
                    DroppedToServer++;
                    continue;
                }

                ClientBytesForwarded += datagram.Length;
                if (RetrySeen && (kinds & DatagramKinds.InitialWithToken) != 0)
                {
                    TokenInitialAfterRetrySeen = true;
                }

                if (!_validated && (kinds & (DatagramKinds.Handshake | DatagramKinds.InitialWithToken)) != 0)
                {
                    _validated = true;
                    ServerBytesBeforeValidation = ServerBytesReceived;
                    ClientBytesBeforeValidation = ClientBytesForwarded - datagram.Length;
                }
            }

            await SendAsync(_back, datagram, _server).ConfigureAwait(false);
        }
    }

    private async Task ServerToClientAsync()
    {
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _back.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            var datagram = buffer.AsMemory(0, received.ReceivedBytes);
            var kinds = QuicDatagramInspector.Inspect(datagram.Span);
            IPEndPoint? client;
            lock (_gate)
            {
                client = _client;
                ServerBytesReceived += datagram.Length;
                RetrySeen |= (kinds & DatagramKinds.Retry) != 0;
                if (!_validated && ServerBytesReceived > 3 * ClientBytesForwarded)
                {
                    AmplificationViolations.Add($"server had sent {ServerBytesReceived} B after receiving {ClientBytesForwarded} B (datagram of {datagram.Length} B, {kinds})");
                }

                if (!_validated)
                {
                    ServerBytesBeforeValidation = ServerBytesReceived;
                    ClientBytesBeforeValidation = ClientBytesForwarded;
                }

                if (client is null || _random.NextDouble() < _dropToClient)
                {
                    DroppedToClient++;
                    continue;
                }
            }

            await SendAsync(_front, datagram, client).ConfigureAwait(false);
        }
    }

    private static async Task SendAsync(Socket socket, ReadOnlyMemory<byte> datagram, IPEndPoint to)
    {
        try
        {
            await socket.SendToAsync(datagram, SocketFlags.None, to).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            // A full socket buffer or an unreachable peer is a lost datagram, which QUIC recovers from.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _front.Dispose();
        _back.Dispose();
        await Task.WhenAll(_toServer, _toClient).ConfigureAwait(false);
        _stop.Dispose();
    }
}
