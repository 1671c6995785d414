using System.Net;

namespace Switchyard.Proxy.Listeners;

/// <summary>
/// The seam through which a server that is not Kestrel (the HTTP/3 server on UDP) hands a request to the same
/// HTTPRoute pipeline (matching, filters, forwarder) that serves HTTP/1.1 and HTTP/2 on TCP.
/// </summary>
public interface IHttpRequestHandler
{
    /// <summary>Serves one request. The task completes when the response is complete or aborted; it does not throw for expected failures.</summary>
    /// <param name="request">The request.</param>
    /// <param name="response">Where the response goes.</param>
    /// <param name="cancellationToken">Signals that the client went away (for HTTP/3, the stream was reset).</param>
    /// <returns>A task for the exchange.</returns>
    Task HandleAsync(ProxiedHttpRequest request, IHttpResponseWriter response, CancellationToken cancellationToken);
}

/// <summary>A request as an HTTP/3 server decodes it (RFC 9114 §4.3.1 pseudo-headers plus fields).</summary>
public sealed class ProxiedHttpRequest
{
    /// <summary>The <c>:method</c>.</summary>
    public required string Method { get; init; }

    /// <summary>The <c>:scheme</c>, normally <c>https</c>.</summary>
    public required string Scheme { get; init; }

    /// <summary>The <c>:authority</c> (host and optional port).</summary>
    public required string Authority { get; init; }

    /// <summary>The <c>:path</c>: the encoded path and query, starting with <c>/</c>.</summary>
    public required string PathAndQuery { get; init; }

    /// <summary>Header fields (names lower-case on HTTP/3); repeated names are allowed.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>The request body, or null when the request has none (HEADERS carried the end of the stream).</summary>
    public Stream? Body { get; init; }

    /// <summary>The client's address, when known.</summary>
    public IPEndPoint? RemoteEndPoint { get; init; }

    /// <summary>The local address the request arrived on, when known.</summary>
    public IPEndPoint? LocalEndPoint { get; init; }

    /// <summary>The protocol name reported to the pipeline.</summary>
    public string Protocol { get; init; } = "HTTP/3";
}

/// <summary>Receives a response from the pipeline; implemented by the HTTP/3 server over its stream.</summary>
public interface IHttpResponseWriter
{
    /// <summary>Sends the status and header fields (the HEADERS frame). Called once, before any body.</summary>
    /// <param name="statusCode">The status code.</param>
    /// <param name="headers">Header fields; names as the pipeline set them.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    ValueTask StartAsync(int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken cancellationToken);

    /// <summary>Sends body bytes (DATA frames); the memory is only valid during the call.</summary>
    /// <param name="data">The bytes.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Ends the response normally, with optional trailers.</summary>
    /// <param name="trailers">Trailer fields; empty when none.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    ValueTask CompleteAsync(IReadOnlyList<KeyValuePair<string, string>> trailers, CancellationToken cancellationToken);

    /// <summary>Ends the response abnormally (for HTTP/3, reset the stream with H3_INTERNAL_ERROR, RFC 9114 §8.1) so a cut body is not taken for a whole one.</summary>
    void Abort();
}
