using System.Collections.Concurrent;
using System.Net;

namespace Switchyard.Transport.InMemory;

/// <summary>
/// An in-process <see cref="IQuicTransport"/>: no sockets, no TLS, no packets. Listeners are keyed by port, and
/// <see cref="ConnectAsync"/> links a client connection to a listener's server connection directly. It exists so the
/// protocols above QUIC can be tested deterministically while the managed QUIC stack is tested on its own, the way
/// Kestrel's HTTP/3 tests run over an in-memory transport.
/// </summary>
public sealed class InMemoryQuicTransport : IQuicTransport
{
    private readonly ConcurrentDictionary<int, InMemoryQuicListener> _listeners = new();
    private int _nextPort = 40000;

    /// <inheritdoc />
    public string Name => "in-memory";

    /// <inheritdoc />
    public bool IsSupported => true;

    /// <inheritdoc />
    public bool SupportsDatagrams => true;

    /// <summary>
    /// Creates a linked pair of connections without a listener: the quickest way to test a protocol over QUIC.
    /// </summary>
    /// <param name="clientOptions">What the client side advertises, or null for defaults.</param>
    /// <param name="serverOptions">What the server side advertises, or null for defaults.</param>
    public static (InMemoryQuicConnection Client, InMemoryQuicConnection Server) CreateConnectionPair(
        InMemoryQuicConnectionOptions? clientOptions = null,
        InMemoryQuicConnectionOptions? serverOptions = null)
    {
        var clientEndPoint = new IPEndPoint(IPAddress.Loopback, 50000);
        var serverEndPoint = new IPEndPoint(IPAddress.Loopback, 443);
        var client = new InMemoryQuicConnection(true, clientOptions ?? new InMemoryQuicConnectionOptions(), clientEndPoint, serverEndPoint, "localhost");
        var server = new InMemoryQuicConnection(false, serverOptions ?? new InMemoryQuicConnectionOptions(), serverEndPoint, clientEndPoint, "localhost");
        InMemoryQuicConnection.Link(client, server);
        return (client, server);
    }

    /// <inheritdoc />
    /// <remarks>The certificate in <paramref name="options"/> is not used: there is no handshake.</remarks>
    public ValueTask<IQuicListener> ListenAsync(QuicServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        int port = options.ListenEndPoint.Port == 0 ? Interlocked.Increment(ref _nextPort) : options.ListenEndPoint.Port;
        var endPoint = new IPEndPoint(options.ListenEndPoint.Address, port);
        var listener = new InMemoryQuicListener(endPoint, ToOptions(options, options.ApplicationProtocols.FirstOrDefault() ?? "h3"), options.ListenBacklog, l => _listeners.TryRemove(new KeyValuePair<int, InMemoryQuicListener>(l.LocalEndPoint.Port, l)));
        if (!_listeners.TryAdd(port, listener))
        {
            throw new InvalidOperationException($"Port {port} is already bound on this in-memory transport.");
        }

        return ValueTask.FromResult<IQuicListener>(listener);
    }

    /// <inheritdoc />
    public ValueTask<IQuicConnection> ConnectAsync(QuicClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        int port = options.RemoteEndPoint switch
        {
            IPEndPoint ip => ip.Port,
            DnsEndPoint dns => dns.Port,
            _ => throw new ArgumentException("Unsupported endpoint type.", nameof(options)),
        };

        if (!_listeners.TryGetValue(port, out InMemoryQuicListener? listener))
        {
            throw new QuicException(QuicError.ConnectionRefused, null, null, $"Nothing listens on in-memory port {port}.");
        }

        // ALPN (RFC 7301): the first client protocol the server also lists.
        string alpn = options.ApplicationProtocols.FirstOrDefault(p => p == listener.Options.ApplicationProtocol)
            ?? throw new QuicException(QuicError.ConnectionRefused, null, 0x0178, "No application protocol in common (TLS alert no_application_protocol).");
        var clientEndPoint = new IPEndPoint(IPAddress.Loopback, Interlocked.Increment(ref _nextPort));
        var client = new InMemoryQuicConnection(true, ToOptions(options, alpn), clientEndPoint, listener.LocalEndPoint, options.TargetHostName);
        var server = new InMemoryQuicConnection(false, listener.Options, listener.LocalEndPoint, clientEndPoint, options.TargetHostName);
        InMemoryQuicConnection.Link(client, server);
        if (!listener.TryEnqueue(server))
        {
            throw new QuicException(QuicError.ConnectionRefused, null, null, "The listener's backlog is full.");
        }

        return ValueTask.FromResult<IQuicConnection>(client);
    }

    private static InMemoryQuicConnectionOptions ToOptions(QuicConnectionOptions options, string alpn) => new()
    {
        MaxInboundBidirectionalStreams = options.MaxInboundBidirectionalStreams,
        MaxInboundUnidirectionalStreams = options.MaxInboundUnidirectionalStreams,
        MaxDatagramFrameSize = options.MaxDatagramFrameSize,
        StreamReceiveWindow = options.StreamReceiveWindow,
        ApplicationProtocol = alpn,
    };
}
