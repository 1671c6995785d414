using System.Net;
using System.Net.Sockets;

namespace Switchyard.Delivery;

/// <summary>
/// <c>Stream</c> delivery: one streaming HTTP/1.1 POST per (WebTransport stream, rule), whose chunked body is the
/// stream's framed messages (32-byte track header plus payload, exactly as read), written as they arrive.
/// </summary>
/// <remarks>
/// <para>The request carries <c>Content-Type: application/vnd.switchyard.track-stream</c>, <c>X-Session-Id</c>,
/// <c>X-Stream-Id</c>, and <c>X-Track-Id</c> / <c>X-Track-Type</c> of the first message. Its body ends when the
/// WebTransport stream ends (FIN), and the backend answers once it has read it all.</para>
/// <para>Outcomes, per request:</para>
/// <list type="bullet">
/// <item>A message is <b>delivered</b> when its bytes were written and flushed into the request and the request then
/// completed with 2xx. Until that final response, flushed messages are unconfirmed: metrics count them only when the
/// request settles.</item>
/// <item>No connection, or a connection lost before any message got through: the request is tried again, up to the
/// rule's retry attempts with its backoff; after the last, every message is <b>backend unavailable</b> (0x13).</item>
/// <item>Once a message got through, nothing is retried (a replayed body would reach the backend twice). A 4xx other
/// than 408/429 makes every unconfirmed message <b>backend rejected</b> (0x14); a 5xx/408/429, a reset or a stall (a
/// write or the final response taking longer than the rule's timeout) makes them <b>backend unavailable</b> (0x13).
/// Messages still queued behind a failure share its outcome.</item>
/// <item>A 2xx that arrives before the body was complete confirms what was flushed; the rest is backend unavailable.</item>
/// </list>
/// <para>Back-pressure: a message leaves the stream's byte budget once flushed into the request, and the TCP send
/// buffer of these connections is capped at <see cref="DefaultSendBufferSize"/>, so a backend that reads slowly fills
/// the budget and the WebTransport stream stops being read.</para>
/// <para>What the client sees: a failure found while the stream is open (connect, reset, stall, session end) stops
/// it with its code at once. A refusal that comes only in the final response arrives after the client's FIN: a
/// bidirectional stream still gets it as RESET_STREAM of the gateway's half, but on a unidirectional stream the
/// STOP_SENDING comes after the client finished sending and a client may never see it (RFC 9000 §3.5); metrics and
/// logs count those messages failed all the same. HTTP/1.1 through <see cref="SocketsHttpHandler"/> only reports a
/// response once the body is complete, so an early refusal is not seen sooner. To an h2c backend (HTTP/2 with prior
/// knowledge) the response arrives as soon as it is sent, so a refusal stops the stream while the client still sends;
/// a 2xx that comes early still waits for the body to be taken whole before its messages count delivered.</para>
/// <para>Backends must accept a body as long and as idle as a WebTransport stream: with Kestrel, lift
/// <c>MaxRequestBodySize</c> and <c>MinRequestBodyDataRate</c> for the endpoint. A request serves one (stream, rule,
/// endpoint) lane and keeps the mode and endpoint it opened with; a reload that changes the rule's mode applies to
/// lanes opened afterwards, and one that removes the endpoint opens a new lane (a second request) for the messages
/// that follow.</para>
/// <para>Metrics: messages are counted when their request settles; <c>switchyard_delivery_duration_seconds</c>
/// records each confirmed message's mean time from being read to being flushed into the request.</para>
/// </remarks>
public sealed class HttpStreamDeliverer : IDisposable
{
    /// <summary>The media type of a body of framed track messages.</summary>
    public const string ContentType = "application/vnd.switchyard.track-stream";

    /// <summary>TCP send buffer of a streaming connection: bytes the kernel may hold beyond the stream's byte budget.</summary>
    public const int DefaultSendBufferSize = 128 * 1024;

    private readonly HttpMessageInvoker _invoker;
    private readonly bool _ownsInvoker;

    /// <summary>Creates a deliverer with its own connections (one per streaming request in flight).</summary>
    public HttpStreamDeliverer()
        : this(new HttpMessageInvoker(CreateHandler()), ownsInvoker: true)
    {
    }

    /// <summary>Creates a deliverer over a caller-supplied invoker.</summary>
    public HttpStreamDeliverer(HttpMessageInvoker invoker, bool ownsInvoker)
    {
        ArgumentNullException.ThrowIfNull(invoker);
        _invoker = invoker;
        _ownsInvoker = ownsInvoker;
    }

    internal HttpMessageInvoker Invoker => _invoker;

    /// <summary>
    /// The handler for streaming requests: no proxy, cookies, redirects or decompression; no cap on connections per
    /// backend (each streaming request holds one for the life of its WebTransport stream, and streams are bounded per
    /// session); a capped TCP send buffer so back-pressure reaches the stream's byte budget; UTF-8 header values, as
    /// <c>X-Track-Id</c> may hold any UTF-8.
    /// </summary>
    /// <param name="sendBufferSize">TCP send buffer per connection, in bytes.</param>
    public static SocketsHttpHandler CreateHandler(int sendBufferSize = DefaultSendBufferSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sendBufferSize, 4096);

        // Message mode's settings (no proxy, cookies, redirects or decompression; UTF-8 header values), then what a
        // long-lived streaming request needs on top.
        var handler = HttpMessageDeliverer.CreateHandler();
        handler.MaxConnectionsPerServer = int.MaxValue;
        handler.ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, SendBufferSize = sendBufferSize };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
        return handler;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsInvoker)
        {
            _invoker.Dispose();
        }
    }
}
