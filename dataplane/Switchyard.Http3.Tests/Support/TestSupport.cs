using System.Buffers;
using Switchyard.Http3.Client;
using Switchyard.Http3.Connection;
using Switchyard.Http3.Frames;
using Switchyard.Http3.Server;
using Switchyard.Transport;
using Switchyard.Transport.InMemory;

namespace Switchyard.Http3.Tests.Support;

internal static class Hex
{
    public static byte[] Parse(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
}

/// <summary>A server and a client over an in-memory QUIC connection.</summary>
internal sealed class Http3TestHost : IAsyncDisposable
{
    private Http3TestHost(InMemoryQuicConnection clientQuic, InMemoryQuicConnection serverQuic, Http3ServerConnection server, Task serverRun, Http3ClientConnection client)
    {
        ClientQuic = clientQuic;
        ServerQuic = serverQuic;
        Server = server;
        ServerRun = serverRun;
        Client = client;
    }

    public InMemoryQuicConnection ClientQuic { get; }

    public InMemoryQuicConnection ServerQuic { get; }

    public Http3ServerConnection Server { get; }

    public Task ServerRun { get; }

    public Http3ClientConnection Client { get; }

    public static async Task<Http3TestHost> StartAsync(Http3RequestHandler handler, Http3ConnectionOptions? serverOptions = null, Http3ConnectionOptions? clientOptions = null, InMemoryQuicConnectionOptions? serverQuicOptions = null)
    {
        (InMemoryQuicConnection c, InMemoryQuicConnection s) = InMemoryQuicTransport.CreateConnectionPair(null, serverQuicOptions);
        var server = new Http3ServerConnection(s, serverOptions ?? new Http3ConnectionOptions(), handler);
        Task run = server.RunAsync();
        Http3ClientConnection client = await Http3ClientConnection.ConnectAsync(c, clientOptions);
        return new Http3TestHost(c, s, server, run, client);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        await ServerRun.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

/// <summary>A hand-driven HTTP/3 peer writing raw bytes, for error-path tests.</summary>
internal sealed class RawPeer
{
    public RawPeer(InMemoryQuicConnection quic)
    {
        Quic = quic;
    }

    public InMemoryQuicConnection Quic { get; }

    public static byte[] Frame(long type, ReadOnlySpan<byte> payload)
    {
        var w = new ArrayBufferWriter<byte>();
        Http3FrameWriter.WriteFrame(w, type, payload);
        return w.WrittenSpan.ToArray();
    }

    public static byte[] Settings(params (long Id, long Value)[] settings)
    {
        var w = new ArrayBufferWriter<byte>();
        Http3FrameWriter.WriteSettings(w, settings.Select(s => new KeyValuePair<long, long>(s.Id, s.Value)));
        return w.WrittenSpan.ToArray();
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] Varint(long v) => VariableLengthInteger.Encode(v);

    public async Task<IQuicStream> OpenUniAsync(byte[] bytes, bool fin = false)
    {
        IQuicStream s = await Quic.OpenOutboundStreamAsync(QuicStreamType.Unidirectional);
        await s.WriteAsync(bytes, fin);
        return s;
    }

    public Task<IQuicStream> OpenControlAsync(params byte[][] frames) =>
        OpenUniAsync(Concat([Varint(0), .. frames]));

    public async Task<IQuicStream> OpenRequestAsync(byte[] bytes, bool fin)
    {
        IQuicStream s = await Quic.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await s.WriteAsync(bytes, fin);
        return s;
    }

    /// <summary>Waits for the connection to close and returns the application error code the other side closed it with.</summary>
    public async Task<long?> WaitForCloseCodeAsync(TimeSpan? timeout = null)
    {
        await Quic.Closed.WaitAsync(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            await Quic.OpenOutboundStreamAsync(QuicStreamType.Unidirectional);
        }
        catch (QuicException e)
        {
            return e.ApplicationErrorCode;
        }

        return null;
    }

    /// <summary>Reads a stream to its end, returning the bytes, or the reset code as an exception.</summary>
    public static async Task<byte[]> ReadToEndAsync(IQuicStream stream, TimeSpan? timeout = null)
    {
        using var ms = new MemoryStream();
        byte[] buffer = new byte[8192];
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            int n = await stream.ReadAsync(buffer, cts.Token);
            if (n == 0)
            {
                return ms.ToArray();
            }

            ms.Write(buffer, 0, n);
        }
    }

    /// <summary>Waits until the stream is reset by the other side and returns the code.</summary>
    public static async Task<long?> WaitForResetAsync(IQuicStream stream)
    {
        try
        {
            await ReadToEndAsync(stream);
        }
        catch (QuicException e) when (e.QuicError == QuicError.StreamAborted)
        {
            return e.ApplicationErrorCode;
        }

        return null;
    }
}
