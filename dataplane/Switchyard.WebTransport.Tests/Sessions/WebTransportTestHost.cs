using System.Threading.Channels;
using Switchyard.Http3;
using Switchyard.Http3.Client;
using Switchyard.Http3.Connection;
using Switchyard.Http3.Frames;
using Switchyard.Http3.Server;
using Switchyard.Transport.InMemory;
using Switchyard.WebTransport.Client;
using Switchyard.WebTransport.Server;
using Switchyard.WebTransport.Sessions;

namespace Switchyard.WebTransport.Tests.Sessions;

/// <summary>A WebTransport server and an HTTP/3 client over an in-memory QUIC connection.</summary>
internal sealed class WebTransportTestHost : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly Task _serverRun;

    private WebTransportTestHost(InMemoryQuicConnection clientQuic, Http3ServerConnection server, Task serverRun, Http3ClientConnection client, Channel<WebTransportSession> sessions)
    {
        ClientQuic = clientQuic;
        Server = server;
        _serverRun = serverRun;
        Client = client;
        ServerSessions = sessions;
    }

    public InMemoryQuicConnection ClientQuic { get; }

    public Http3ServerConnection Server { get; }

    public Http3ClientConnection Client { get; }

    public Channel<WebTransportSession> ServerSessions { get; }

    public static async Task<WebTransportTestHost> StartAsync(WebTransportOptions? options = null, WebTransportAcceptCallback? accept = null, Http3ConnectionOptions? clientOptions = null)
    {
        var sessions = Channel.CreateUnbounded<WebTransportSession>();
        var wt = new WebTransportServer(
            options ?? new WebTransportOptions(),
            accept ?? ((request, _) => ValueTask.FromResult(request.Path.StartsWith("/wt", StringComparison.Ordinal) ? WebTransportDecision.Accept : WebTransportDecision.Reject(404))),
            async session =>
            {
                sessions.Writer.TryWrite(session);
                await session.Closed;
            });
        (InMemoryQuicConnection c, InMemoryQuicConnection s) = InMemoryQuicTransport.CreateConnectionPair();
        var server = new Http3ServerConnection(s, wt.ConfigureHttp3(), wt.CreateRequestHandler());
        Task run = server.RunAsync();
        Http3ClientConnection client = await Http3ClientConnection.ConnectAsync(c, clientOptions ?? WebTransportClient.ConfigureHttp3());
        return new WebTransportTestHost(c, server, run, client, sessions);
    }

    public async Task<(WebTransportSession Client, WebTransportSession Server)> OpenSessionAsync(string path = "/wt", string? origin = "https://example.com")
    {
        WebTransportSession client = await WebTransportClient.ConnectAsync(Client, "localhost:443", path, origin).WaitAsync(Timeout);
        WebTransportSession server = await ServerSessions.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        return (client, server);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        await _serverRun.WaitAsync(Timeout);
    }

    /// <summary>An HTTP/3 HEADERS frame with literal field lines only (RFC 9204 §4.5.6), built by hand.</summary>
    public static byte[] HeadersFrame(params (string Name, string Value)[] fields)
    {
        var section = new List<byte> { 0, 0 };
        foreach ((string name, string value) in fields)
        {
            AppendPrefixed(section, name.Length, 3, 0x20);
            section.AddRange(System.Text.Encoding.ASCII.GetBytes(name));
            AppendPrefixed(section, value.Length, 7, 0x00);
            section.AddRange(System.Text.Encoding.ASCII.GetBytes(value));
        }

        return [.. VariableLengthInteger.Encode(1), .. VariableLengthInteger.Encode(section.Count), .. section];
    }

    private static void AppendPrefixed(List<byte> output, int value, int prefixBits, byte flags)
    {
        int max = (1 << prefixBits) - 1;
        if (value < max)
        {
            output.Add((byte)(flags | value));
            return;
        }

        output.Add((byte)(flags | max));
        value -= max;
        while (value >= 0x80)
        {
            output.Add((byte)((value & 0x7f) | 0x80));
            value >>= 7;
        }

        output.Add((byte)value);
    }

    public static HeaderField Field(string name, string value) => new(name, value);
}
