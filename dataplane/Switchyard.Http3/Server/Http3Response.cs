using System.Globalization;
using Switchyard.Http3.Connection;
using Switchyard.Transport;

namespace Switchyard.Http3.Server;

/// <summary>
/// The response a handler writes: status and headers (sent on the first write or <see cref="SendHeadersAsync"/>),
/// a streamed body, then trailers and FIN on <see cref="CompleteAsync"/> (RFC 9114 §4.1).
/// </summary>
public sealed class Http3Response
{
    private readonly IQuicStream _stream;
    private readonly Http3MessageWriter _writer;

    internal Http3Response(IQuicStream stream)
    {
        _stream = stream;
        _writer = new Http3MessageWriter(stream);
    }

    /// <summary>The status code; 200 unless set. Settable until the headers are sent.</summary>
    public int StatusCode { get; set; } = 200;

    /// <summary>Response header fields (lowercase names). Settable until the headers are sent.</summary>
    public IList<HeaderField> Headers { get; } = new List<HeaderField>();

    /// <summary>Trailer fields, sent by <see cref="CompleteAsync"/>.</summary>
    public IList<HeaderField> Trailers { get; } = new List<HeaderField>();

    /// <summary>True once the header section has been sent.</summary>
    public bool HasStarted { get; private set; }

    /// <summary>True once FIN was sent or the stream was aborted.</summary>
    public bool IsCompleted => _writer.Completed || Aborted;

    internal bool Aborted { get; private set; }

    /// <summary>Sends the header section now (for example, to accept an extended CONNECT before any body).</summary>
    public async ValueTask SendHeadersAsync(CancellationToken cancellationToken = default)
    {
        if (HasStarted)
        {
            return;
        }

        await SendHeadersCoreAsync(false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes body bytes as a DATA frame, sending the headers first if needed.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (!HasStarted)
        {
            await SendHeadersCoreAsync(false, cancellationToken).ConfigureAwait(false);
        }

        await _writer.WriteDataAsync(data, false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the response: headers if not yet sent, trailers if any, then FIN. Idempotent.</summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (IsCompleted)
        {
            return;
        }

        if (!HasStarted)
        {
            await SendHeadersCoreAsync(Trailers.Count == 0, cancellationToken).ConfigureAwait(false);
            if (_writer.Completed)
            {
                return;
            }
        }

        await _writer.CompleteAsync(Trailers.Count > 0 ? Trailers.ToList() : null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Resets the stream both ways with <paramref name="errorCode"/> (RESET_STREAM and STOP_SENDING).</summary>
    public void Abort(long errorCode)
    {
        Aborted = true;
        _stream.Abort(QuicAbortDirection.Both, errorCode);
    }

    /// <summary>Resets the stream both ways with an HTTP/3 error code.</summary>
    public void Abort(Http3ErrorCode errorCode) => Abort((long)errorCode);

    private async ValueTask SendHeadersCoreAsync(bool endStream, CancellationToken cancellationToken)
    {
        if (StatusCode is < 100 or > 999)
        {
            throw new InvalidOperationException($"Status code {StatusCode} is not three digits (RFC 9110 §15).");
        }

        HasStarted = true;
        var fields = new List<HeaderField>(Headers.Count + 1)
        {
            new(":status", StatusCode.ToString(CultureInfo.InvariantCulture)),
        };
        fields.AddRange(Headers);
        await _writer.WriteHeadersAsync(fields, endStream, cancellationToken).ConfigureAwait(false);
    }
}
