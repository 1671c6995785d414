using System.Net;
using System.Net.Sockets;
using Switchyard.Http3.Client;
using Switchyard.Quic.Udp;
using Switchyard.Tracks.Framing;
using Switchyard.Transport;
using Switchyard.WebTransport.Client;
using Switchyard.WebTransport.Sessions;

namespace Switchyard.Conformance.Http;

/// <summary>
/// One WebTransport session through a Gateway, opened by Switchyard's own client (managed QUIC, HTTP/3, extended
/// CONNECT), on which the WebTransportRoute scenarios send track-framed messages on unidirectional streams.
/// </summary>
internal sealed class TrackSessionClient : IAsyncDisposable
{
    private readonly IQuicConnection quic;
    private readonly Http3ClientConnection h3;

    private TrackSessionClient(IQuicConnection quic, Http3ClientConnection h3, WebTransportSession session)
    {
        this.quic = quic;
        this.h3 = h3;
        Session = session;
    }

    public WebTransportSession Session { get; }

    /// <summary>
    /// Connects to <paramref name="address"/> (<c>host:port</c>, UDP) and opens a session on <paramref name="path"/>
    /// with <paramref name="authority"/> as <c>:authority</c> (and TLS server name, without the port). The Gateway's
    /// certificate is not verified: the suite's certificates are self-signed.
    /// </summary>
    /// <exception cref="WebTransportSessionException">The Gateway refused the session (its status in <c>StatusCode</c>).</exception>
    public static async Task<TrackSessionClient> ConnectAsync(string address, string authority, string path, CancellationToken cancellationToken)
    {
        var endPoint = await ResolveAsync(address, cancellationToken).ConfigureAwait(false);
        var host = authority.StartsWith('[') ? authority[1..authority.IndexOf(']', StringComparison.Ordinal)]
            : authority.Contains(':', StringComparison.Ordinal) ? authority[..authority.IndexOf(':', StringComparison.Ordinal)] : authority;
        var connection = await ManagedQuicTransport.Instance.ConnectAsync(new QuicClientOptions
        {
            RemoteEndPoint = endPoint,
            TargetHostName = host,
            ApplicationProtocols = ["h3"],
            SkipCertificateValidation = true,
        }, cancellationToken).ConfigureAwait(false);
        Http3ClientConnection? http3 = null;
        try
        {
            http3 = await Http3ClientConnection.ConnectAsync(connection, WebTransportClient.ConfigureHttp3(), cancellationToken).ConfigureAwait(false);
            var session = await WebTransportClient.ConnectAsync(http3, authority, path, origin: "https://" + host, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new TrackSessionClient(connection, http3, session);
        }
        catch
        {
            if (http3 is not null)
            {
                await http3.DisposeAsync().ConfigureAwait(false);
            }

            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens a unidirectional stream for track messages.</summary>
    public async Task<TrackSender> OpenAsync() => new(await Session.OpenUnidirectionalStreamAsync().ConfigureAwait(false));

    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync().ConfigureAwait(false);
        await h3.DisposeAsync().ConfigureAwait(false);
        await quic.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task<IPEndPoint> ResolveAsync(string address, CancellationToken cancellationToken)
    {
        if (IPEndPoint.TryParse(address, out var ep) && ep.Port != 0)
        {
            return ep;
        }

        var colon = address.LastIndexOf(':');
        var port = int.Parse(address.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture);
        var addresses = await Dns.GetHostAddressesAsync(address[..colon].Trim('[', ']'), cancellationToken).ConfigureAwait(false);
        var ip = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.First();
        return new IPEndPoint(ip, port);
    }
}

/// <summary>A unidirectional stream sending track messages (32-byte track header, then the payload).</summary>
internal sealed class TrackSender(WebTransportStream stream)
{
    public long Sent { get; private set; }

    public long SentBytes { get; private set; }

    /// <summary>Sends one message; false when the Gateway has stopped the stream (see <see cref="StopCode"/>).</summary>
    /// <param name="trackId">The header's track ID.</param>
    /// <param name="trackType">The header's track type.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="cancellationToken">Gives up on a write that waits (for flow-control credit) past the caller's patience.</param>
    public async Task<bool> TrySendAsync(string trackId, string trackType, byte[] payload, CancellationToken cancellationToken = default)
    {
        try
        {
            await stream.WriteAsync(TrackFraming.EncodeMessage(trackId, trackType, payload), cancellationToken: cancellationToken).ConfigureAwait(false);
            Sent++;
            SentBytes += payload.Length;
            return true;
        }
        catch (WebTransportStreamException ex)
        {
            StopCode = ex.ErrorCode;
            Stopped = true;
            return false;
        }
        catch (InvalidOperationException) when (Sent > 0)
        {
            // The managed stack forgets a stream once its reset is acknowledged: a write after that learns the stream
            // is gone, not the STOP_SENDING code it got.
            Stopped = true;
            return false;
        }
    }

    /// <summary>True once a write failed because the Gateway stopped the stream (with or without a known code).</summary>
    public bool Stopped { get; private set; }

    /// <summary>The WebTransport application error code the Gateway stopped the stream with, once seen.</summary>
    public uint? StopCode { get; private set; }

    /// <summary>Keeps sending small messages until the Gateway stops the stream; returns its code, or null at the timeout.</summary>
    public async Task<uint?> WaitForStopAsync(string trackId, string trackType, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(timeout);
        try
        {
            while (DateTime.UtcNow < deadline && !Stopped)
            {
                // No pause between writes: the stop code is only seen by a write made before the stream is forgotten.
                cancellationToken.ThrowIfCancellationRequested();
                if (!await TrySendAsync(trackId, trackType, [1], patience.Token).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A write stuck waiting for credit the Gateway never gives (it stopped reading, and its STOP_SENDING was
            // not seen) ends with the timeout instead of waiting for the connection's idle timeout: no code was seen,
            // and the caller may try a new stream.
            Stopped = true;
        }

        return StopCode;
    }

    public void Finish() => stream.CompleteWrites();
}
