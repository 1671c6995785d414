using Switchyard.Http3;
using Switchyard.Http3.Client;
using Switchyard.Http3.Connection;
using Switchyard.Http3.Frames;
using Switchyard.WebTransport.Sessions;

namespace Switchyard.WebTransport.Client;

/// <summary>The client side of WebTransport over HTTP/3 draft-02: opens sessions with an extended CONNECT.</summary>
public static class WebTransportClient
{
    /// <summary>A copy of <paramref name="http3Options"/> with the settings and hooks a WebTransport client needs.</summary>
    public static Http3ConnectionOptions ConfigureHttp3(Http3ConnectionOptions? http3Options = null, WebTransportOptions? options = null) =>
        WebTransportConfiguration.Configure(http3Options, options ?? new WebTransportOptions());

    /// <summary>
    /// True when the server's SETTINGS allow WebTransport: extended CONNECT plus SETTINGS_ENABLE_WEBTRANSPORT = 1
    /// (draft-02), or the newer drafts' WT_ENABLED or max-sessions setting.
    /// </summary>
    public static bool ServerSupportsWebTransport(Http3Settings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.EnableConnectProtocol
            && (settings.Get(WebTransportProtocol.SettingEnableWebTransport, 0) == 1
                || settings.Get(WebTransportProtocol.SettingWtEnabled, 0) >= 1
                || settings.Get(WebTransportProtocol.SettingWtMaxSessionsDraft07, 0) > 0);
    }

    /// <summary>
    /// Opens a session: waits for the server's SETTINGS, sends <c>CONNECT</c> with <c>:protocol webtransport</c> and
    /// <c>sec-webtransport-http3-draft02: 1</c>, and returns the session once the server answers 2xx.
    /// </summary>
    /// <exception cref="WebTransportSessionException">The server does not support WebTransport or rejected the session.</exception>
    public static async Task<WebTransportSession> ConnectAsync(Http3ClientConnection connection, string authority, string path, string? origin = null, IEnumerable<HeaderField>? headers = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        WebTransportConnection state = connection.GetExtension<WebTransportConnection>()
            ?? throw new InvalidOperationException("The connection was not configured with WebTransportClient.ConfigureHttp3.");

        Http3Settings settings = await connection.PeerSettings.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!ServerSupportsWebTransport(settings))
        {
            throw new WebTransportSessionException("The server's SETTINGS do not enable WebTransport (draft-ietf-webtrans-http3-02 §3.1).");
        }

        if (!state.TryReserveSession())
        {
            throw new WebTransportSessionException($"This connection already carries {state.Options.MaxSessionsPerConnection} sessions.");
        }

        var request = new Http3RequestHead { Method = "CONNECT", Protocol = WebTransportProtocol.ConnectProtocol, Scheme = "https", Authority = authority, Path = path };
        request.Headers.Add(new HeaderField(WebTransportProtocol.Draft02RequestHeader, "1"));
        if (origin is not null)
        {
            request.Headers.Add(new HeaderField("origin", origin));
        }

        foreach (HeaderField header in headers ?? [])
        {
            request.Headers.Add(header);
        }

        Http3ClientStream stream;
        Http3ResponseHead head;
        try
        {
            stream = await connection.SendRequestHeadersAsync(request, endStream: false, cancellationToken).ConfigureAwait(false);
            head = await stream.ReadResponseAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            state.ReleaseReservation(-1);
            throw;
        }

        if (head.StatusCode is < 200 or >= 300)
        {
            state.ReleaseReservation(stream.StreamId);
            await stream.DisposeAsync().ConfigureAwait(false);
            throw new WebTransportSessionException($"The server rejected the session with status {head.StatusCode}.", head.StatusCode);
        }

        var session = new WebTransportSession(state, stream.StreamId, new ClientConnectStream(stream), path, authority, origin, head.Headers);
        state.Add(session);
        session.Start();
        return session;
    }
}
