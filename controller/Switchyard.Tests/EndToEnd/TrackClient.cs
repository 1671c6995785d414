using System.Net;
using Switchyard.Http3.Client;
using Switchyard.Quic.Udp;
using Switchyard.Tls;
using Switchyard.Tracks.Framing;
using Switchyard.Transport;
using Switchyard.WebTransport.Client;
using Switchyard.WebTransport.Sessions;

namespace Switchyard.Tests.EndToEnd;

/// <summary>Our own WebTransport client over the managed QUIC stack and real UDP, for scenarios a browser cannot script.</summary>
internal sealed class TrackClient : IAsyncDisposable
{
    private readonly IQuicConnection _quic;
    private readonly Http3ClientConnection _h3;

    private TrackClient(IQuicConnection quic, Http3ClientConnection h3, WebTransportSession session)
    {
        _quic = quic;
        _h3 = h3;
        Session = session;
    }

    public WebTransportSession Session { get; }

    /// <summary>Opens a session; a null <paramref name="certificateSha256"/> accepts any certificate (a gateway whose generated certificate the test cannot see).</summary>
    public static async Task<TrackClient> ConnectAsync(IPEndPoint gateway, byte[]? certificateSha256, string path = "/wt", string origin = "http://127.0.0.1")
    {
        var quic = await ManagedQuicTransport.Instance.ConnectAsync(new QuicClientOptions
        {
            RemoteEndPoint = gateway,
            TargetHostName = "127.0.0.1",
            ApplicationProtocols = ["h3"],
            PinnedCertificateSha256 = certificateSha256,
            SkipCertificateValidation = certificateSha256 is null,
        });
        Http3ClientConnection? h3 = null;
        try
        {
            h3 = await Http3ClientConnection.ConnectAsync(quic, WebTransportClient.ConfigureHttp3());
            var session = await WebTransportClient.ConnectAsync(h3, $"127.0.0.1:{gateway.Port}", path, origin: origin);
            return new TrackClient(quic, h3, session);
        }
        catch
        {
            // A refused session (or a failed HTTP/3 setup) must not leave the connection open.
            if (h3 is not null)
            {
                await h3.DisposeAsync();
            }

            await quic.DisposeAsync();
            throw;
        }
    }

    public static Task<TrackClient> ConnectAsync(QuickstartHarness quickstart, string origin = "http://127.0.0.1") =>
        ConnectAsync(quickstart.Gateway.QuicEndPoint, TlsCertificates.Sha256OfDer(quickstart.Gateway.Certificate), origin: origin);

    /// <summary>A unidirectional stream that sends framed messages.</summary>
    public async Task<TrackStream> OpenAsync() => new(await Session.OpenUnidirectionalStreamAsync());

    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync();
        await _h3.DisposeAsync();
        await _quic.DisposeAsync();
    }

    internal sealed class TrackStream(WebTransportStream stream)
    {
        public WebTransportStream Stream => stream;

        public long Sent { get; private set; }

        public long SentBytes { get; private set; }

        public async Task SendAsync(string trackId, string trackType, byte[] payload)
        {
            await stream.WriteAsync(TrackFraming.EncodeMessage(trackId, trackType, payload));
            Sent++;
            SentBytes += payload.Length;
        }

        public ValueTask SendRawAsync(byte[] bytes) => stream.WriteAsync(bytes);

        /// <summary>Keeps writing small messages of a track until the gateway stops the stream; returns its WebTransport code.</summary>
        public async Task<uint?> WaitForStopAsync(TimeSpan timeout, string trackId, string trackType)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    await stream.WriteAsync(TrackFraming.EncodeMessage(trackId, trackType, [1]));
                    await Task.Delay(20);
                }
                catch (WebTransportStreamException ex)
                {
                    return ex.ErrorCode;
                }
            }

            return null;
        }

        public void Finish() => stream.CompleteWrites();
    }
}
