using System.Globalization;
using Switchyard.Http3.Connection;
using Switchyard.Http3.Frames;
using Switchyard.Transport;

namespace Switchyard.Http3.Client;

/// <summary>
/// One request in flight on a client connection: write the body, then read the response head, body and trailers.
/// Writing and reading may overlap (an extended CONNECT keeps both open).
/// </summary>
public sealed class Http3ClientStream : IAsyncDisposable
{
    private readonly Http3ClientConnection _connection;
    private readonly IQuicStream _stream;
    private readonly Http3StreamReader _reader;
    private readonly Http3MessageWriter _writer;
    private Http3MessageBody? _body;
    private Http3ResponseHead? _head;

    internal Http3ClientStream(Http3ClientConnection connection, IQuicStream stream)
    {
        _connection = connection;
        _stream = stream;
        _reader = new Http3StreamReader(stream);
        _writer = new Http3MessageWriter(stream);
    }

    /// <summary>The request stream ID.</summary>
    public long StreamId => _stream.Id;

    /// <summary>The connection the request was sent on.</summary>
    public Http3ClientConnection Connection => _connection;

    /// <summary>The response trailers, once the body was read to its end; null when there were none.</summary>
    public IReadOnlyList<HeaderField>? Trailers => _body?.Trailers;

    internal ValueTask SendHeadersAsync(List<HeaderField> fields, bool endStream, CancellationToken cancellationToken) =>
        _writer.WriteHeadersAsync(fields, endStream, cancellationToken);

    /// <summary>Writes request body bytes as a DATA frame.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        _writer.WriteDataAsync(data, false, cancellationToken);

    /// <summary>Ends the request: trailers if given, then FIN.</summary>
    public ValueTask CompleteAsync(IReadOnlyList<HeaderField>? trailers = null, CancellationToken cancellationToken = default) =>
        _writer.CompleteAsync(trailers, cancellationToken);

    /// <summary>
    /// Reads the final response head, skipping interim 1xx responses (RFC 9114 §4.1).
    /// </summary>
    /// <exception cref="Http3StreamException">The response is malformed (H3_MESSAGE_ERROR) or ended early.</exception>
    public async ValueTask<Http3ResponseHead> ReadResponseAsync(CancellationToken cancellationToken = default)
    {
        if (_head is not null)
        {
            return _head;
        }

        try
        {
            while (true)
            {
                long? type = await _reader.ReadVarintAsync(cancellationToken).ConfigureAwait(false)
                    ?? throw new Http3StreamException(Http3ErrorCode.RequestIncomplete, "The response stream ended before a header section (RFC 9114 §4.1).");
                long length = await _reader.ReadVarintAsync(cancellationToken).ConfigureAwait(false)
                    ?? throw new Http3ConnectionException(Http3ErrorCode.FrameError, "The stream ends inside a frame header (RFC 9114 §7.1).");
                if (type != (long)Http3FrameType.Headers)
                {
                    Http3FieldValidation.ThrowIfUnexpectedOnRequestStream(type.Value, isServer: false, afterTrailers: false);
                    if (!await _reader.SkipAsync(length, cancellationToken).ConfigureAwait(false))
                    {
                        throw new Http3ConnectionException(Http3ErrorCode.FrameError, "The stream ends inside a frame (RFC 9114 §7.1).");
                    }

                    continue;
                }

                ReadOnlyMemory<byte> section = await Http3MessageBody.ReadPayloadAsync(_reader, length, _connection.Options.MaxFieldSectionSize, cancellationToken).ConfigureAwait(false);
                List<HeaderField> fields;
                try
                {
                    fields = await Http3MessageBody.DecodeAsync(_connection, _stream.Id, section, cancellationToken).ConfigureAwait(false);
                }
                catch (Http3FieldSectionTooLargeException e)
                {
                    throw new Http3StreamException(Http3ErrorCode.ExcessiveLoad, e.Message);
                }

                (int status, List<HeaderField> headers) = ValidateResponse(fields);
                if (status < 200)
                {
                    // Interim response (§4.1): keep reading for the final one.
                    continue;
                }

                _head = new Http3ResponseHead(status, headers);
                _body = new Http3MessageBody(_connection, _reader, status is 204 or 304 ? null : Http3MessageBody.ParseContentLength(headers));
                return _head;
            }
        }
        catch (Http3StreamException e)
        {
            _stream.Abort(QuicAbortDirection.Both, (long)e.ErrorCode);
            throw;
        }
        catch (Http3ConnectionException e)
        {
            await _connection.CloseAsync(e.ErrorCode, e.Message).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Reads response body bytes; 0 at the end. Reads the head first if needed.</summary>
    public async ValueTask<int> ReadBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_body is null)
        {
            await ReadResponseAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await _body!.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Http3StreamException e)
        {
            _stream.Abort(QuicAbortDirection.Both, (long)e.ErrorCode);
            throw;
        }
        catch (Http3ConnectionException e)
        {
            await _connection.CloseAsync(e.ErrorCode, e.Message).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops reading the response with <paramref name="errorCode"/> (STOP_SENDING); the request half stays open.</summary>
    public void StopReading(long errorCode) => _stream.Abort(QuicAbortDirection.Read, errorCode);

    /// <summary>Resets the stream both ways, for example with H3_REQUEST_CANCELLED.</summary>
    public void Abort(long errorCode) => _stream.Abort(QuicAbortDirection.Both, errorCode);

    /// <summary>Releases the stream; an unfinished request is completed and unread response data is refused.</summary>
    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
    }

    private static (int Status, List<HeaderField> Headers) ValidateResponse(List<HeaderField> fields)
    {
        int status = -1;
        var headers = new List<HeaderField>(fields.Count);
        bool regularSeen = false;
        foreach (HeaderField field in fields)
        {
            if (field.Name.StartsWith(':'))
            {
                if (field.Name != ":status" || regularSeen || status != -1)
                {
                    throw Http3FieldValidation.Malformed($"response pseudo-header '{field.Name}' is unknown, repeated or after a regular field (RFC 9114 §4.3.2)");
                }

                if (field.Value.Length != 3 || !int.TryParse(field.Value, NumberStyles.None, CultureInfo.InvariantCulture, out status) || status < 100)
                {
                    throw Http3FieldValidation.Malformed($":status '{field.Value}' is not a three-digit code (RFC 9114 §4.3.2)");
                }

                continue;
            }

            regularSeen = true;
            Http3FieldValidation.ValidateRegularField(field);
            headers.Add(field);
        }

        if (status == -1)
        {
            throw Http3FieldValidation.Malformed("no :status (RFC 9114 §4.3.2)");
        }

        return (status, headers);
    }
}
