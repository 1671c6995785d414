using System.Net;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Quic.Connection;
using Switchyard.Quic.Recovery.Simulation;
using Switchyard.Tls;

namespace Switchyard.Quic.Tests.Connection;

/// <summary>Adapts a client connection to the simulated network.</summary>
internal sealed class SimClient(QuicConnection connection) : ISimulatedEndpoint
{
    public QuicConnection Connection { get; } = connection;

    public long? NextDeadline => Connection.NextDeadline;

    public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now) => Connection.Receive(datagram, from, now);

    public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now) => Connection.TrySend(buffer, out length, out to, now);

    public void OnDeadline(long now) => Connection.OnDeadline(now);
}

/// <summary>Adapts the server endpoint to the simulated network.</summary>
internal sealed class SimServer(QuicServerEndpoint endpoint) : ISimulatedEndpoint
{
    public QuicServerEndpoint Endpoint { get; } = endpoint;

    public long? NextDeadline => Endpoint.NextDeadline;

    public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now) => Endpoint.Receive(datagram, from, now);

    public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now) => Endpoint.TrySend(buffer, out length, out to, now);

    public void OnDeadline(long now) => Endpoint.OnDeadline(now);
}

/// <summary>A client and a server over a <see cref="SimulatedNetwork"/> with real TLS 1.3.</summary>
internal sealed class SimPair
{
    public static readonly X509Certificate2 Certificate = TlsCertificates.CreateSelfSignedEcdsaP256(["localhost"], TimeSpan.FromDays(2));

    public static readonly IPEndPoint ServerAddress = new(IPAddress.Parse("10.0.0.1"), 443);

    public static readonly IPEndPoint ClientAddress = new(IPAddress.Parse("10.0.0.2"), 50000);

    public SimPair(int seed, SimulatedLink? link = null, bool requireRetry = false, Action<ConnectionSettingsBuilder>? configure = null)
    {
        var builder = new ConnectionSettingsBuilder();
        configure?.Invoke(builder);
        Network = new SimulatedNetwork(seed, link ?? SimulatedLink.Default);
        var resetKey = new byte[32];
        ServerEndpoint = new QuicServerEndpoint(() => builder.Build(isServer: true, resetKey), resetKey) { RequireRetry = requireRetry };
        Network.Attach(ServerAddress, new SimServer(ServerEndpoint));
        Client = QuicConnection.CreateClient(builder.Build(isServer: false, new byte[32]), ServerAddress, Network.NowMicros);
        ClientEndpoint = new SimClient(Client);
        Network.Attach(ClientAddress, ClientEndpoint);
    }

    public SimulatedNetwork Network { get; }

    public QuicServerEndpoint ServerEndpoint { get; }

    public QuicConnection Client { get; }

    public SimClient ClientEndpoint { get; }

    public QuicConnection? Server => ServerEndpoint.Connections.Count > 0 ? ServerEndpoint.Connections[0] : null;

    public bool RunUntil(Func<bool> predicate, TimeSpan virtualLimit) =>
        Network.RunUntil(predicate, Network.NowMicros + (long)virtualLimit.TotalMicroseconds);

    public void Handshake()
    {
        Assert.True(RunUntil(() => Client.IsHandshakeConfirmed && Server is { IsHandshakeComplete: true }, TimeSpan.FromSeconds(30)), "handshake did not complete");
    }
}

/// <summary>Test knobs for connection settings.</summary>
internal sealed class ConnectionSettingsBuilder
{
    public int StreamReceiveWindow { get; set; } = 1 << 20;

    public int ConnectionReceiveWindow { get; set; } = 16 << 20;

    public int MaxInboundBidiStreams { get; set; } = 100;

    public long IdleTimeoutMicros { get; set; } = 30_000_000;

    public int StreamSendBuffer { get; set; } = 1 << 20;

    public TlsCipherSuite? CipherSuite { get; set; }

    public ConnectionSettings Build(bool isServer, byte[] resetKey) => new()
    {
        IsServer = isServer,
        StatelessResetKey = resetKey,
        StreamReceiveWindow = StreamReceiveWindow,
        ConnectionReceiveWindow = ConnectionReceiveWindow,
        MaxInboundBidiStreams = MaxInboundBidiStreams,
        IdleTimeoutMicros = IdleTimeoutMicros,
        StreamSendBuffer = StreamSendBuffer,
        TlsFactory = isServer
            ? (callbacks, parameters) => QuicTls.CreateServer(Server(), callbacks, parameters)
            : (callbacks, parameters) => QuicTls.CreateClient(Client(), callbacks, parameters),
    };

    private TlsServerConfig Server()
    {
        var config = new TlsServerConfig { Certificate = SimPair.Certificate, ApplicationProtocols = ["h3"] };
        if (CipherSuite is { } suite)
        {
            config.CipherSuites = [suite];
        }

        return config;
    }

    private TlsClientConfig Client()
    {
        var config = new TlsClientConfig { ServerName = "localhost", ApplicationProtocols = ["h3"], SkipCertificateValidation = true };
        if (CipherSuite is { } suite)
        {
            config.CipherSuites = [suite];
        }

        return config;
    }
}
