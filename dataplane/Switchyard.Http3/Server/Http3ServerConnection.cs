using Switchyard.Http3.Connection;
using Switchyard.Http3.Frames;
using Switchyard.Transport;

namespace Switchyard.Http3.Server;

/// <summary>Handles one request: read <paramref name="request"/>, write <paramref name="response"/>.</summary>
/// <remarks>
/// When the handler returns, the response is completed if it was not. If it throws before the response started, a
/// 500 is sent; after, the stream is reset with H3_INTERNAL_ERROR so the client never mistakes a cut body for a whole one.
/// </remarks>
public delegate Task Http3RequestHandler(Http3Request request, Http3Response response);

/// <summary>
/// The server side of one HTTP/3 connection (RFC 9114): accepts request streams, validates them, runs the handler for
/// each, and shuts down gracefully with GOAWAY.
/// </summary>
public sealed class Http3ServerConnection : Http3Connection
{
    private readonly Http3RequestHandler _handler;
    private readonly object _lock = new();
    private readonly HashSet<Task> _inFlight = new();
    private long _nextExpectedRequestId;
    private long? _goAwayId;

    /// <summary>Creates the connection; call <see cref="RunAsync"/> to serve it.</summary>
    public Http3ServerConnection(IQuicConnection quic, Http3ConnectionOptions options, Http3RequestHandler handler)
        : base(quic, options, isServer: true)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handler = handler;
    }

    /// <summary>Requests being handled right now.</summary>
    public int ActiveRequests
    {
        get { lock (_lock) { return _inFlight.Count; } }
    }

    /// <summary>Opens our control and QPACK streams, then serves requests until the connection closes.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (QuicException)
        {
            return;
        }

        using (cancellationToken.Register(() => _ = CloseAsync(Http3ErrorCode.NoError, "server stopping").AsTask()))
        {
            await Closed.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Graceful shutdown (RFC 9114 §5.2): sends GOAWAY naming the first request stream not processed, rejects later
    /// requests with H3_REQUEST_REJECTED, waits up to <paramref name="timeout"/> for in-flight requests, then closes with H3_NO_ERROR.
    /// </summary>
    public async Task ShutdownAsync(TimeSpan timeout)
    {
        long id;
        Task[] pending;
        lock (_lock)
        {
            id = _nextExpectedRequestId;
            _goAwayId = id;
            pending = _inFlight.ToArray();
        }

        try
        {
            await SendGoAwayAsync(id).ConfigureAwait(false);
        }
        catch (QuicException)
        {
        }

        try
        {
            await Task.WhenAll(pending).WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        await CloseAsync(Http3ErrorCode.NoError, "shutdown").ConfigureAwait(false);
    }

    private protected override async Task HandleBidirectionalStreamAsync(IQuicStream stream)
    {
        // Registered before any work starts, so a shutdown never misses a request that is already running.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_goAwayId is long limit && stream.Id >= limit)
            {
                // §5.2: requests at or above the GOAWAY ID were not and will not be processed.
                stream.Abort(QuicAbortDirection.Both, (long)Http3ErrorCode.RequestRejected);
                return;
            }

            _nextExpectedRequestId = Math.Max(_nextExpectedRequestId, stream.Id + 4);
            _inFlight.Add(done.Task);
        }

        try
        {
            await GuardAsync(() => HandleRequestStreamAsync(stream)).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                _inFlight.Remove(done.Task);
            }

            done.TrySetResult();
        }
    }

    /// <remarks>
    /// 1. Read leading frames: an extension signal hands the stream over, unknown frames are skipped, HEADERS starts the request.
    /// 2. Decode the header section with QPACK (waiting if it is blocked on the dynamic table).
    /// 3. Validate the control data (RFC 9114 §4.3.1, RFC 9220 §3) and build the request.
    /// 4. Run the handler, then complete the response.
    /// </remarks>
    private async Task HandleRequestStreamAsync(IQuicStream stream)
    {
        var reader = new Http3StreamReader(stream);
        bool handedOff = false;
        Http3Response? response = null;
        CancellationToken ct = ConnectionClosing;
        try
        {
            // :: Step 1
            long headersLength;
            while (true)
            {
                long? type = await reader.ReadVarintAsync(ct).ConfigureAwait(false);
                if (type is null)
                {
                    throw new Http3StreamException(Http3ErrorCode.RequestIncomplete, "The request stream ended before a header section (RFC 9114 §4.1.2).");
                }

                if (!Http3FieldValidation.IsHttp3FrameType(type.Value) && OfferBidirectionalToExtensions(type.Value, reader))
                {
                    handedOff = true;
                    return;
                }

                long length = await reader.ReadVarintAsync(ct).ConfigureAwait(false)
                    ?? throw new Http3ConnectionException(Http3ErrorCode.FrameError, "The stream ends inside a frame header (RFC 9114 §7.1).");
                if (type == (long)Http3FrameType.Headers)
                {
                    headersLength = length;
                    break;
                }

                Http3FieldValidation.ThrowIfUnexpectedOnRequestStream(type.Value, isServer: true, afterTrailers: false);
                if (!await reader.SkipAsync(length, ct).ConfigureAwait(false))
                {
                    throw new Http3ConnectionException(Http3ErrorCode.FrameError, "The stream ends inside a frame (RFC 9114 §7.1).");
                }
            }

            // :: Step 2
            response = new Http3Response(stream);
            List<HeaderField> fields;
            try
            {
                ReadOnlyMemory<byte> section = await Http3MessageBody.ReadPayloadAsync(reader, headersLength, Options.MaxFieldSectionSize, ct).ConfigureAwait(false);
                fields = await Http3MessageBody.DecodeAsync(this, stream.Id, section, ct).ConfigureAwait(false);
            }
            catch (Http3FieldSectionTooLargeException)
            {
                // RFC 9114 §4.2.2: the request is refused with 431 (Request Header Fields Too Large).
                response.StatusCode = 431;
                await response.CompleteAsync(ct).ConfigureAwait(false);
                stream.Abort(QuicAbortDirection.Read, (long)Http3ErrorCode.NoError);
                return;
            }

            // :: Step 3
            Http3Request request = BuildRequest(stream.Id, fields, reader);

            // :: Step 4
            try
            {
                await _handler(request, response).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not Http3ConnectionException and not Http3StreamException and not QuicException)
            {
                if (response.HasStarted)
                {
                    throw new Http3StreamException(Http3ErrorCode.InternalError, "The handler failed after the response started.");
                }

                response.StatusCode = 500;
                response.Headers.Clear();
                response.Trailers.Clear();
            }

            if (!response.IsCompleted)
            {
                await response.CompleteAsync(ct).ConfigureAwait(false);
            }

            if (!request.IsBodyCompleted && !response.Aborted)
            {
                // §4.1.2: a complete response may end the exchange; ask the client to stop sending, without error.
                stream.Abort(QuicAbortDirection.Read, (long)Http3ErrorCode.NoError);
            }
        }
        catch (Http3StreamException e)
        {
            stream.Abort(QuicAbortDirection.Both, (long)e.ErrorCode);
            CancelStreamForQpack(stream.Id);
        }
        catch (Http3ConnectionException e)
        {
            // Never let the stream end cleanly on a connection error: a FIN would pass a cut message for a whole one.
            stream.Abort(QuicAbortDirection.Both, (long)e.ErrorCode);
            throw;
        }
        catch (QuicException e) when (e.QuicError == QuicError.StreamAborted)
        {
            // The client cancelled: stop our half too.
            stream.Abort(QuicAbortDirection.Both, (long)Http3ErrorCode.RequestCancelled);
            CancelStreamForQpack(stream.Id);
        }
        finally
        {
            reader.Dispose();
            if (!handedOff)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private Http3Request BuildRequest(long streamId, List<HeaderField> fields, Http3StreamReader reader)
    {
        string? method = null, scheme = null, authority = null, path = null, protocol = null;
        var headers = new List<HeaderField>(fields.Count);
        bool regularSeen = false;
        foreach (HeaderField field in fields)
        {
            if (field.Name.StartsWith(':'))
            {
                // §4.3: pseudo-headers come first, once each, and only the defined ones.
                if (regularSeen)
                {
                    throw Http3FieldValidation.Malformed($"pseudo-header '{field.Name}' after a regular field (RFC 9114 §4.3)");
                }

                ref string? slot = ref method;
                switch (field.Name)
                {
                    case ":method": slot = ref method; break;
                    case ":scheme": slot = ref scheme; break;
                    case ":authority": slot = ref authority; break;
                    case ":path": slot = ref path; break;
                    case ":protocol" when Options.EnableExtendedConnect: slot = ref protocol; break;
                    default: throw Http3FieldValidation.Malformed($"unknown or disallowed pseudo-header '{field.Name}' (RFC 9114 §4.3.1, RFC 9220 §3)");
                }

                if (slot is not null)
                {
                    throw Http3FieldValidation.Malformed($"duplicate pseudo-header '{field.Name}' (RFC 9114 §4.3.1)");
                }

                slot = field.Value;
                continue;
            }

            regularSeen = true;
            Http3FieldValidation.ValidateRegularField(field);
            headers.Add(field);
        }

        if (string.IsNullOrEmpty(method))
        {
            throw Http3FieldValidation.Malformed("no :method (RFC 9114 §4.3.1)");
        }

        if (protocol is not null)
        {
            // RFC 9220 §3: extended CONNECT carries :protocol, :scheme, :path and :authority.
            if (method != "CONNECT")
            {
                throw Http3FieldValidation.Malformed(":protocol with a method other than CONNECT (RFC 9220 §3)");
            }

            if (string.IsNullOrEmpty(scheme) || string.IsNullOrEmpty(path) || string.IsNullOrEmpty(authority))
            {
                throw Http3FieldValidation.Malformed("extended CONNECT without :scheme, :path and :authority (RFC 9220 §3)");
            }
        }
        else if (method == "CONNECT")
        {
            // §4.4: plain CONNECT has :authority and neither :scheme nor :path.
            if (scheme is not null || path is not null || string.IsNullOrEmpty(authority))
            {
                throw Http3FieldValidation.Malformed("CONNECT must carry :authority and omit :scheme and :path (RFC 9114 §4.4)");
            }
        }
        else
        {
            if (string.IsNullOrEmpty(scheme) || string.IsNullOrEmpty(path))
            {
                throw Http3FieldValidation.Malformed("a request without :scheme or with an empty :path (RFC 9114 §4.3.1)");
            }

            if (scheme is "http" or "https")
            {
                string? host = headers.FirstOrDefault(h => h.Name == "host").Value;
                if (string.IsNullOrEmpty(authority) && string.IsNullOrEmpty(host))
                {
                    throw Http3FieldValidation.Malformed("an http(s) request without :authority or host (RFC 9114 §4.3.1)");
                }

                authority ??= host;
            }
        }

        long? contentLength = Http3MessageBody.ParseContentLength(headers);
        var body = new Http3MessageBody(this, reader, contentLength);
        return new Http3Request(this, reader.Stream, streamId, method, scheme, authority, path, protocol, headers, body);
    }
}
