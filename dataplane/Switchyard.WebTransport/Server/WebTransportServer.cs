using System.Net;
using Switchyard.Http3;
using Switchyard.Http3.Connection;
using Switchyard.Http3.Server;
using Switchyard.WebTransport.Sessions;

namespace Switchyard.WebTransport.Server;

/// <summary>What the accept callback knows about a WebTransport CONNECT before the session exists.</summary>
public sealed class WebTransportSessionRequest
{
    internal WebTransportSessionRequest(Http3Request request)
    {
        SessionId = request.StreamId;
        Path = request.Path ?? string.Empty;
        Authority = request.Authority ?? string.Empty;
        Origin = request.GetHeader("origin");
        Headers = request.Headers;
        RemoteEndPoint = request.Connection.Quic.RemoteEndPoint;
        IsDraft02 = request.GetHeader(WebTransportProtocol.Draft02RequestHeader) == "1";
    }

    /// <summary>The session ID the session would get (the CONNECT stream ID).</summary>
    public long SessionId { get; }

    /// <summary>The <c>:path</c>.</summary>
    public string Path { get; }

    /// <summary>The <c>:authority</c>.</summary>
    public string Authority { get; }

    /// <summary>The <c>origin</c> header, or null.</summary>
    public string? Origin { get; }

    /// <summary>All regular request headers.</summary>
    public IReadOnlyList<HeaderField> Headers { get; }

    /// <summary>The client's address.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>True when the client sent <c>sec-webtransport-http3-draft02: 1</c> (Chromium does).</summary>
    public bool IsDraft02 { get; }
}

/// <summary>The answer to a WebTransport CONNECT.</summary>
/// <param name="StatusCode">2xx accepts the session; anything else rejects it with that status.</param>
public readonly record struct WebTransportDecision(int StatusCode)
{
    /// <summary>Accept with 200.</summary>
    public static WebTransportDecision Accept { get; } = new(200);

    /// <summary>True for a 2xx status.</summary>
    public bool IsAccepted => StatusCode is >= 200 and < 300;

    /// <summary>Reject with a 4xx status, 404 by default (no matching route) or 403 (origin not allowed).</summary>
    public static WebTransportDecision Reject(int statusCode = 404) =>
        statusCode is >= 200 and < 300 ? throw new ArgumentOutOfRangeException(nameof(statusCode), "A rejection needs a non-2xx status.") : new(statusCode);
}

/// <summary>Decides whether a WebTransport CONNECT becomes a session.</summary>
public delegate ValueTask<WebTransportDecision> WebTransportAcceptCallback(WebTransportSessionRequest request, CancellationToken cancellationToken);

/// <summary>Runs one accepted session; the session lives until it is closed, by either side, or this returns.</summary>
public delegate Task WebTransportSessionHandler(WebTransportSession session);

/// <summary>
/// The server side of WebTransport over HTTP/3 draft-02: configures HTTP/3 (SETTINGS 0x08, 0x33 and 0x2b603742 all 1,
/// the stream hooks) and answers extended CONNECT with <c>:protocol webtransport</c>.
/// </summary>
/// <remarks>
/// Usage: <c>var h3 = wt.ConfigureHttp3(baseOptions); new Http3ServerConnection(quic, h3, wt.CreateRequestHandler(fallback))</c>.
/// </remarks>
public sealed class WebTransportServer
{
    private readonly WebTransportOptions _options;
    private readonly WebTransportAcceptCallback _accept;
    private readonly WebTransportSessionHandler _handler;

    /// <summary>Creates the server.</summary>
    public WebTransportServer(WebTransportOptions options, WebTransportAcceptCallback accept, WebTransportSessionHandler handler)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(accept);
        ArgumentNullException.ThrowIfNull(handler);
        _options = options;
        _accept = accept;
        _handler = handler;
    }

    /// <summary>
    /// A copy of <paramref name="http3Options"/> with extended CONNECT, HTTP datagrams and SETTINGS_ENABLE_WEBTRANSPORT
    /// enabled and the WebTransport stream hooks installed.
    /// </summary>
    public Http3ConnectionOptions ConfigureHttp3(Http3ConnectionOptions? http3Options = null) => WebTransportConfiguration.Configure(http3Options, _options);

    /// <summary>
    /// A request handler that serves WebTransport CONNECTs and passes every other request to <paramref name="fallback"/>
    /// (404 when null).
    /// </summary>
    public Http3RequestHandler CreateRequestHandler(Http3RequestHandler? fallback = null) => (request, response) =>
    {
        if (request.Method == "CONNECT" && request.Protocol == WebTransportProtocol.ConnectProtocol)
        {
            return HandleConnectAsync(request, response);
        }

        if (fallback is not null)
        {
            return fallback(request, response);
        }

        response.StatusCode = 404;
        return Task.CompletedTask;
    };

    /// <remarks>
    /// 1. Find the connection's WebTransport state and reserve a session slot (429 when full).
    /// 2. Ask the accept callback; a rejection answers its status and ends the stream.
    /// 3. Answer 200, register the session (streams that raced ahead are delivered), start reading capsules.
    /// 4. Run the session handler; the request ends when the CONNECT stream's read side ends.
    /// </remarks>
    private async Task HandleConnectAsync(Http3Request request, Http3Response response)
    {
        // :: Step 1
        WebTransportConnection? state = request.Connection.GetExtension<WebTransportConnection>();
        if (state is null)
        {
            response.StatusCode = 501;
            return;
        }

        if (!state.TryReserveSession())
        {
            response.StatusCode = 429;
            return;
        }

        // :: Step 2
        var sessionRequest = new WebTransportSessionRequest(request);
        WebTransportDecision decision;
        try
        {
            decision = await _accept(sessionRequest, request.Connection.ConnectionClosing).ConfigureAwait(false);
        }
        catch
        {
            state.ReleaseReservation(request.StreamId);
            throw;
        }

        if (!decision.IsAccepted)
        {
            state.ReleaseReservation(request.StreamId);
            response.StatusCode = decision.StatusCode;
            return;
        }

        // :: Step 3
        response.StatusCode = decision.StatusCode;
        response.Headers.Add(new HeaderField(WebTransportProtocol.DraftResponseHeader, "draft02"));
        await response.SendHeadersAsync().ConfigureAwait(false);
        var session = new WebTransportSession(state, request.StreamId, new ServerConnectStream(request, response), sessionRequest.Path, sessionRequest.Authority, sessionRequest.Origin, request.Headers);
        state.Add(session);
        session.Start();

        // :: Step 4
        Task handler = RunHandlerAsync(session);
        await session.ReadLoop.ConfigureAwait(false);
        await session.Closed.ConfigureAwait(false);
        _ = handler;
    }

    private async Task RunHandlerAsync(WebTransportSession session)
    {
        try
        {
            await _handler(session).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A failing session handler ends its session, never the connection.
        catch (Exception)
#pragma warning restore CA1031
        {
            await session.CloseAsync(0, "session handler failed").ConfigureAwait(false);
        }
    }
}
