using System.Buffers;
using System.Globalization;
using Switchyard.Http3;
using Switchyard.Http3.Server;
using Switchyard.Proxy.Listeners;

namespace Switchyard.Gateway.DataPlane;

/// <summary>
/// Hands HTTP/3 requests (everything but WebTransport CONNECTs) to the HTTPRoute pipeline of one Gateway listener
/// port through <see cref="IHttpRequestHandler"/>, the same matching, filters and forwarder that serve HTTP/1.1 and
/// HTTP/2 on TCP.
/// </summary>
public static class Http3RouteAdapter
{
    /// <summary>Field names that are connection-specific and must not appear in an HTTP/3 message (RFC 9114 §4.2).</summary>
    private static readonly HashSet<string> ConnectionSpecific = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
    };

    /// <summary>Creates the HTTP/3 request handler for one port.</summary>
    /// <param name="handler">The port's pipeline, from <see cref="ProxyServer.GetRequestHandler"/>.</param>
    /// <returns>A handler for <see cref="Hosting.WebTransportGateway.HttpFallback"/>.</returns>
    public static Http3RequestHandler Create(IHttpRequestHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return (request, response) => HandleAsync(handler, request, response);
    }

    /// <remarks>
    /// 1. Decide whether the request has a body. HTTP/3 has no END_STREAM flag on HEADERS to read, so a request without
    ///    content-length is peeked: a FIN right after the headers (a GET) means no body, anything else is streamed.
    /// 2. Join split cookie fields (RFC 9114 §4.2.1) and build the request.
    /// 3. Run the pipeline; the response goes out through <see cref="ResponseWriter"/>.
    /// </remarks>
    private static async Task HandleAsync(IHttpRequestHandler handler, Http3Request request, Http3Response response)
    {
        var clientGone = request.Connection.ConnectionClosing;

        // :: Step 1
        Stream? body;
        try
        {
            body = await RequestBody.OpenAsync(request, clientGone).ConfigureAwait(false);
        }
        catch (Http3StreamException)
        {
            response.StatusCode = 400;
            return;
        }

        // :: Step 2
        var headers = new List<KeyValuePair<string, string>>(request.Headers.Count);
        string? cookie = null;
        foreach (var field in request.Headers)
        {
            if (field.Name == "cookie")
            {
                cookie = cookie is null ? field.Value : cookie + "; " + field.Value;
            }
            else
            {
                headers.Add(new(field.Name, field.Value));
            }
        }

        if (cookie is not null)
        {
            headers.Add(new("cookie", cookie));
        }

        var proxied = new ProxiedHttpRequest
        {
            Method = request.Method,
            Scheme = request.Scheme ?? "https",
            Authority = request.Authority ?? string.Empty,
            PathAndQuery = string.IsNullOrEmpty(request.Path) ? "/" : request.Path,
            Headers = headers,
            Body = body,
            RemoteEndPoint = request.Connection.Quic.RemoteEndPoint,
            LocalEndPoint = request.Connection.Quic.LocalEndPoint,
        };

        // :: Step 3
        try
        {
            await handler.HandleAsync(proxied, new ResponseWriter(response), clientGone).ConfigureAwait(false);
        }
        finally
        {
            if (body is not null)
            {
                await body.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes the pipeline's response as HTTP/3 HEADERS, DATA and trailers.</summary>
    private sealed class ResponseWriter(Http3Response response) : IHttpResponseWriter
    {
        public async ValueTask StartAsync(int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
        {
            response.StatusCode = statusCode;
            Copy(headers, response.Headers);
            await response.SendHeadersAsync(cancellationToken).ConfigureAwait(false);
        }

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => response.WriteAsync(data, cancellationToken);

        public ValueTask CompleteAsync(IReadOnlyList<KeyValuePair<string, string>> trailers, CancellationToken cancellationToken)
        {
            Copy(trailers, response.Trailers);
            return response.CompleteAsync(cancellationToken);
        }

        public void Abort() => response.Abort(Http3ErrorCode.InternalError);

        private static void Copy(IReadOnlyList<KeyValuePair<string, string>> from, IList<HeaderField> to)
        {
            foreach (var (name, value) in from)
            {
                // RFC 9114 §4.2: field names are lower-case and connection-specific fields are not sent.
                if (name.Length == 0 || name[0] == ':' || ConnectionSpecific.Contains(name))
                {
                    continue;
                }

                to.Add(new HeaderField(name.ToLowerInvariant(), value));
            }
        }
    }

    /// <summary>The request body as a read-only stream, starting with any bytes peeked to detect it.</summary>
    private sealed class RequestBody : Stream
    {
        private const int PeekSize = 16 * 1024;
        private readonly Http3Request _request;
        private byte[]? _peeked;
        private int _peekedOffset;
        private readonly int _peekedCount;

        private RequestBody(Http3Request request, byte[]? peeked, int count)
        {
            _request = request;
            _peeked = peeked;
            _peekedCount = count;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>The body stream, or null when the request has none.</summary>
        public static async Task<Stream?> OpenAsync(Http3Request request, CancellationToken cancellationToken)
        {
            if (request.IsBodyCompleted)
            {
                return null;
            }

            if (request.GetHeader("content-length") is { } length && long.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out var declared))
            {
                return declared == 0 ? null : new RequestBody(request, null, 0);
            }

            var buffer = ArrayPool<byte>.Shared.Rent(PeekSize);
            try
            {
                var n = await request.ReadBodyAsync(buffer.AsMemory(0, PeekSize), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }

                return new RequestBody(request, buffer, n);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_peeked is { } peeked)
            {
                var n = Math.Min(buffer.Length, _peekedCount - _peekedOffset);
                peeked.AsSpan(_peekedOffset, n).CopyTo(buffer.Span);
                _peekedOffset += n;
                if (_peekedOffset == _peekedCount)
                {
                    ReturnPeeked();
                }

                return n;
            }

            return await _request.ReadBodyAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            ReturnPeeked();
            base.Dispose(disposing);
        }

        private void ReturnPeeked()
        {
            if (Interlocked.Exchange(ref _peeked, null) is { } peeked)
            {
                ArrayPool<byte>.Shared.Return(peeked);
            }
        }
    }
}
