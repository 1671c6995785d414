using Switchyard.Http3.Connection;

namespace Switchyard.Http3.Server;

/// <summary>
/// A request received by an HTTP/3 server (RFC 9114 §4.1): its validated control data (§4.3.1), its fields, and its
/// body read on demand, so a handler that stops reading pushes back on the client through QUIC flow control.
/// </summary>
public sealed class Http3Request
{
    private readonly Http3MessageBody _body;
    private readonly Transport.IQuicStream _stream;

    internal Http3Request(Http3Connection connection, Transport.IQuicStream stream, long streamId, string method, string? scheme, string? authority, string? path, string? protocol, IReadOnlyList<HeaderField> headers, Http3MessageBody body)
    {
        Connection = connection;
        StreamId = streamId;
        Method = method;
        Scheme = scheme;
        Authority = authority;
        Path = path;
        Protocol = protocol;
        Headers = headers;
        _body = body;
        _stream = stream;
    }

    /// <summary>The connection the request arrived on; extensions use it to find their per-connection state.</summary>
    public Http3Connection Connection { get; }

    /// <summary>The request stream ID; for extended CONNECT it names the session (RFC 9297 §2.1, WebTransport).</summary>
    public long StreamId { get; }

    /// <summary>The <c>:method</c> pseudo-header.</summary>
    public string Method { get; }

    /// <summary>The <c>:scheme</c> pseudo-header; null for a plain CONNECT (RFC 9114 §4.4).</summary>
    public string? Scheme { get; }

    /// <summary>The <c>:authority</c> pseudo-header, or the <c>host</c> field when it is absent.</summary>
    public string? Authority { get; }

    /// <summary>The <c>:path</c> pseudo-header; null for a plain CONNECT.</summary>
    public string? Path { get; }

    /// <summary>The <c>:protocol</c> pseudo-header of an extended CONNECT (RFC 9220 §3), or null.</summary>
    public string? Protocol { get; }

    /// <summary>The regular (non-pseudo) header fields, in order.</summary>
    public IReadOnlyList<HeaderField> Headers { get; }

    /// <summary>The trailer fields, once the body has been read to its end; null when there were none.</summary>
    public IReadOnlyList<HeaderField>? Trailers => _body.Trailers;

    /// <summary>True once the whole body (and FIN) has been read.</summary>
    public bool IsBodyCompleted => _body.IsCompleted;

    /// <summary>The first value of header <paramref name="name"/> (lowercase), or null.</summary>
    public string? GetHeader(string name)
    {
        foreach (HeaderField field in Headers)
        {
            if (field.Name == name)
            {
                return field.Value;
            }
        }

        return null;
    }

    /// <summary>
    /// Reads body bytes into <paramref name="buffer"/>; returns 0 at the end of the body. For an extended CONNECT this is
    /// the stream's data after the headers, where capsules travel (RFC 9297 §3).
    /// </summary>
    /// <exception cref="Http3StreamException">The body is malformed (for example, longer than content-length).</exception>
    /// <exception cref="Transport.QuicException">The client reset the stream.</exception>
    public ValueTask<int> ReadBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _body.ReadAsync(buffer, cancellationToken);

    /// <summary>Stops reading the request with <paramref name="errorCode"/> (STOP_SENDING, RFC 9000 §19.5); the response half stays open.</summary>
    public void StopReading(long errorCode) => _stream.Abort(Transport.QuicAbortDirection.Read, errorCode);

    /// <summary>Reads the rest of the body into memory, refusing more than <paramref name="maxBytes"/>.</summary>
    public async Task<byte[]> ReadBodyToEndAsync(int maxBytes, CancellationToken cancellationToken = default)
    {
        using var memory = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        while (true)
        {
            int n = await ReadBodyAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return memory.ToArray();
            }

            if (memory.Length + n > maxBytes)
            {
                throw new InvalidOperationException($"The request body exceeds {maxBytes} bytes.");
            }

            memory.Write(buffer, 0, n);
        }
    }
}
