using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Channels;
using Switchyard.Quic.Connection;
using Switchyard.Tls;
using Switchyard.Transport;

namespace Switchyard.Quic.Udp;

/// <summary>
/// The managed QUIC v1 stack (RFC 9000, RFC 9001, RFC 9221) behind the <see cref="IQuicTransport"/> seam: a sans-I/O
/// connection per peer, driven by one socket and one loop thread per listener or client connection.
/// </summary>
public sealed class ManagedQuicTransport : IQuicTransport
{
    /// <summary>A shared instance; the transport itself holds no state.</summary>
    public static ManagedQuicTransport Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "managed";

    /// <inheritdoc />
    public bool IsSupported => true;

    /// <inheritdoc />
    public bool SupportsDatagrams => true;

    /// <inheritdoc />
    public ValueTask<IQuicListener> ListenAsync(QuicServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ApplicationProtocols.Count == 0)
        {
            throw new ArgumentException("At least one ALPN protocol is required (RFC 9001 §8.1).", nameof(options));
        }

        var socket = new Socket(options.ListenEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (options.ListenEndPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = true;
            }

            socket.ReceiveBufferSize = 4 << 20;
            socket.SendBufferSize = 4 << 20;
            socket.Bind(options.ListenEndPoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return ValueTask.FromResult<IQuicListener>(new ManagedQuicListener(socket, options));
    }

    /// <inheritdoc />
    public async ValueTask<IQuicConnection> ConnectAsync(QuicClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var remote = options.RemoteEndPoint switch
        {
            IPEndPoint ip => ip,
            DnsEndPoint dns => new IPEndPoint((await Dns.GetHostAddressesAsync(dns.Host, cancellationToken).ConfigureAwait(false))[0], dns.Port),
            _ => throw new ArgumentException("RemoteEndPoint must be an IPEndPoint or a DnsEndPoint.", nameof(options)),
        };
        var socket = new Socket(remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(options.LocalEndPoint ?? new IPEndPoint(remote.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
        var keyLog = KeyLogWriter.For(options.KeyLogFile);
        var tlsConfig = new TlsClientConfig
        {
            ServerName = options.TargetHostName ?? (options.RemoteEndPoint as DnsEndPoint)?.Host,
            ApplicationProtocols = options.ApplicationProtocols.ToList(),
            TrustedRoot = options.TrustedRoot,
            PinnedCertificateSha256 = options.PinnedCertificateSha256,
            SkipCertificateValidation = options.SkipCertificateValidation,
            KeyLog = keyLog,
        };
        var settings = ConnectionSettings.From(options, isServer: false, (callbacks, parameters) => QuicTls.CreateClient(tlsConfig, callbacks, parameters));
        var connection = QuicConnection.CreateClient(settings, remote, DatagramLoop.Now());
        var endpoint = new ClientEndpoint(connection);
        var loop = new DatagramLoop(socket, endpoint, "quic-client");
        var managed = new ManagedQuicConnection(connection, loop, (IPEndPoint)socket.LocalEndPoint!, ownsLoop: true);
        connection.Events = managed;
        loop.Start();
        try
        {
            await managed.HandshakeCompleted.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await managed.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return managed;
    }

    private sealed class ClientEndpoint(QuicConnection connection) : IDatagramEndpoint
    {
        public long? NextDeadline => connection.NextDeadline;

        public bool IsFinished => connection.State == ConnectionState.Terminated;

        public bool HasUrgentSend => connection.IsAckUrgent;

        public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now) => connection.Receive(datagram, from, now);

        public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now) => connection.TrySend(buffer, out length, out to, now);

        public void OnDeadline(long now) => connection.OnDeadline(now);
    }
}

/// <summary>Accepts connections on one UDP socket; handshakes finish on the loop, then wait in a bounded queue.</summary>
internal sealed class ManagedQuicListener : IQuicListener, IDatagramEndpoint
{
    private readonly QuicServerEndpoint _endpoint;
    private readonly DatagramLoop _loop;
    private readonly Channel<ManagedQuicConnection> _accepted;
    private int _disposed;

    public ManagedQuicListener(Socket socket, QuicServerOptions options)
    {
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        var keyLog = KeyLogWriter.For(options.KeyLogFile);
        var resetKey = RandomNumberGenerator.GetBytes(32);
        var tlsConfig = new TlsServerConfig
        {
            Certificate = options.ServerCertificate,
            Chain = options.CertificateChain,
            ApplicationProtocols = options.ApplicationProtocols.ToList(),
            CertificateSelector = options.ServerCertificateSelector,
            KeyLog = keyLog,
        };
        var settings = ConnectionSettings.From(options, isServer: true, (callbacks, parameters) => QuicTls.CreateServer(tlsConfig, callbacks, parameters));
        var withKey = new ConnectionSettings
        {
            IsServer = true,
            TlsFactory = settings.TlsFactory,
            IdleTimeoutMicros = settings.IdleTimeoutMicros,
            MaxInboundBidiStreams = settings.MaxInboundBidiStreams,
            MaxInboundUniStreams = settings.MaxInboundUniStreams,
            MaxDatagramFrameSize = settings.MaxDatagramFrameSize,
            StreamReceiveWindow = settings.StreamReceiveWindow,
            ConnectionReceiveWindow = settings.ConnectionReceiveWindow,
            StatelessResetKey = resetKey,
        };
        _accepted = Channel.CreateBounded<ManagedQuicConnection>(new BoundedChannelOptions(Math.Max(1, options.ListenBacklog)) { FullMode = BoundedChannelFullMode.Wait });
        _endpoint = new QuicServerEndpoint(() => withKey, resetKey) { RequireRetry = options.RequireRetry, Backlog = options.ListenBacklog };
        _loop = new DatagramLoop(socket, this, "quic-listener");
        _endpoint.ConnectionCreated = connection =>
        {
            var managed = new ManagedQuicConnection(connection, _loop, LocalEndPoint, ownsLoop: false)
            {
                HandshakeCallback = completed =>
                {
                    if (!_accepted.Writer.TryWrite(completed))
                    {
                        // The accept queue is full: refuse rather than queue without bound.
                        completed.Connection.Close(0, "accept queue full", DatagramLoop.Now());
                    }
                },
            };
            return managed;
        };
        _loop.Start();
    }

    public IPEndPoint LocalEndPoint { get; }

    long? IDatagramEndpoint.NextDeadline => _endpoint.NextDeadline;

    bool IDatagramEndpoint.IsFinished => false;

    bool IDatagramEndpoint.HasUrgentSend => _endpoint.HasUrgentSend;

    public async ValueTask<IQuicConnection> AcceptConnectionAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(ManagedQuicListener));
        }
    }

    void IDatagramEndpoint.Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now) => _endpoint.Receive(datagram, from, now);

    bool IDatagramEndpoint.TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now) => _endpoint.TrySend(buffer, out length, out to, now);

    void IDatagramEndpoint.OnDeadline(long now) => _endpoint.OnDeadline(now);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _accepted.Writer.TryComplete();
        await _loop.Invoke(() =>
        {
            foreach (var connection in _endpoint.Connections)
            {
                connection.Close(0, "server shutting down", DatagramLoop.Now());
            }

            return true;
        }).ConfigureAwait(false);
        await Task.Delay(50).ConfigureAwait(false);
        _loop.Dispose();
        _endpoint.Dispose();
    }
}

/// <summary>Appends TLS secrets in the NSS key log format to a file (<c>SSLKEYLOGFILE</c>).</summary>
internal static class KeyLogWriter
{
    private static readonly Lock Gate = new();

    public static Action<string>? For(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        return line =>
        {
            lock (Gate)
            {
                File.AppendAllText(path, line.EndsWith('\n') ? line : line + "\n");
            }
        };
    }
}
