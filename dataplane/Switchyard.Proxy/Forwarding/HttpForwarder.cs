using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Switchyard.Ir;
using Switchyard.Proxy.Filters;

namespace Switchyard.Proxy.Forwarding;

/// <summary>Everything the forwarder needs for one request, decided by matching and filters.</summary>
internal sealed class ForwardPlan
{
    /// <summary>The endpoint to send to.</summary>
    public required EndpointIr Endpoint { get; init; }

    /// <summary>The encoded path and query to request (after any URLRewrite).</summary>
    public required string PathAndQuery { get; init; }

    /// <summary>The Host header to send: the client's, or the URLRewrite hostname.</summary>
    public required string Host { get; init; }

    /// <summary>The Gateway listener port, for <c>X-Forwarded-Port</c>.</summary>
    public required int ListenerPort { get; init; }

    /// <summary>Route-level RequestHeaderModifier.</summary>
    public HeaderModifierIr? RequestHeaders { get; init; }

    /// <summary>Backend-level RequestHeaderModifier.</summary>
    public HeaderModifierIr? BackendRequestHeaders { get; init; }

    /// <summary>Route-level ResponseHeaderModifier.</summary>
    public HeaderModifierIr? ResponseHeaders { get; init; }

    /// <summary>Backend-level ResponseHeaderModifier.</summary>
    public HeaderModifierIr? BackendResponseHeaders { get; init; }

    /// <summary>The deadline for the whole exchange, every try included, or null for none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The deadline of one try (sending, then streaming the response of the try that is kept), or null for none.</summary>
    public TimeSpan? TryTimeout { get; init; }

    /// <summary>The route's retry policy with a way to pick the next try's backend, or null to send once.</summary>
    public RetryPlan? Retry { get; init; }

    /// <summary>Mirror endpoints sampled for this request, or null.</summary>
    public List<MirrorCopy>? Mirrors { get; init; }

    /// <summary>True when the gateway sets its own <c>Alt-Svc</c>, so the backend's is not passed on.</summary>
    public bool OwnAltSvc { get; init; }

    /// <summary>How the backend is spoken to: HTTP/1.1, or HTTP/2 with prior knowledge for h2c.</summary>
    public BackendProtocol Protocol { get; init; }

    /// <summary>The route's CORS policy when the request carries an <c>Origin</c>; its headers go on the response.</summary>
    public CorsPolicy? Cors { get; init; }

    /// <summary>The request's <c>Origin</c>, set with <see cref="Cors"/>.</summary>
    public string? Origin { get; init; }

    /// <summary>The backend's TLS client (a BackendTLSPolicy), or null to send in the clear.</summary>
    public BackendTlsClient? Tls { get; init; }
}

/// <summary>A route's retry policy (GEP-1731) and how the next try's target is chosen.</summary>
/// <param name="Policy">Which answers are retried, how often and with what wait.</param>
/// <param name="NextTry">
/// Chooses a backend again and gives the plan of the next try, or null when no backend can take it (the last answer
/// then stands).
/// </param>
internal sealed record RetryPlan(RetryIr Policy, Func<ForwardPlan?> NextTry);

/// <summary>
/// A reverse-proxy forwarder on <see cref="HttpMessageInvoker"/> (one pooled <see cref="SocketsHttpHandler"/>), shaped
/// like YARP's <c>IHttpForwarder</c>: it streams bodies in both directions, applies the hop-by-hop rules, adds
/// forwarding headers, enforces the route's timeouts and returns a <see cref="ProxyError"/> instead of throwing.
/// </summary>
internal sealed partial class HttpForwarder
{
    private readonly HttpMessageInvoker _invoker;
    private readonly RequestMirrors _mirrors;
    private readonly ILogger _logger;

    /// <summary>Creates a forwarder over <paramref name="invoker"/>.</summary>
    public HttpForwarder(HttpMessageInvoker invoker, RequestMirrors mirrors, ILogger logger)
    {
        _invoker = invoker;
        _mirrors = mirrors;
        _logger = logger;
    }

    /// <summary>The handler for backends: pooled, no proxy, no cookies, no redirects, no decompression.</summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        EnableMultipleHttp2Connections = true,
        ActivityHeadersPropagator = null,
    };

    /// <summary>
    /// The largest request body kept in memory so a try can be replayed; a larger body, or one of unknown length, is
    /// streamed once and its request is not retried. Bounded so retries never buffer without limit.
    /// </summary>
    public const int MaxReplayableBody = 64 * 1024;

    /// <summary>Forwards <paramref name="context"/>'s request per <paramref name="plan"/> and copies the response back.</summary>
    /// <remarks>
    /// 1. Attach the body: streamed, or buffered when mirrors need a copy of a small body or a retry may replay it
    ///    (see <see cref="MaxReplayableBody"/>).
    /// 2. Build the backend request: method, target, client headers without hop-by-hop ones, Host, forwarding headers,
    ///    then the route's and the backend's RequestHeaderModifier.
    /// 3. Hand copies to the mirrors (fire-and-forget), on the first try only.
    /// 4. Send under the try's and the whole exchange's deadlines and wait for response headers. When the route
    ///    retries and the answer is one of its codes, or the backend could not be reached, reset or the try's own
    ///    deadline passed: discard the answer, wait the backoff, choose a backend again and go back to step 2 — while
    ///    attempts remain and the backoff ends before the whole exchange's deadline.
    /// 5. Copy status and headers (without hop-by-hop ones), apply the ResponseHeaderModifiers, start the response.
    /// 6. Stream the body, then trailers. A failure from here on aborts the response rather than truncating it.
    /// A WebSocket opening handshake goes as an HTTP/1.1 upgrade without a body, and is never retried; when the
    /// backend switches protocols, step 6 is the <see cref="UpgradeTunnel"/> instead.
    /// </remarks>
    /// <param name="context">The client exchange.</param>
    /// <param name="plan">What to send where.</param>
    /// <returns><see cref="ProxyError.None"/>, or why the exchange failed; the caller applies it with <see cref="ProxyErrors.Apply"/>.</returns>
    public async Task<ProxyError> ForwardAsync(HttpContext context, ForwardPlan plan)
    {
        var clientAborted = context.RequestAborted;

        // WebSocket needs an HTTP/1.1 backend (RFC 8441 to backends is not spoken); to h2c the Upgrade is dropped as hop-by-hop.
        var tunnel = plan.Protocol == BackendProtocol.H2c ? null : UpgradeTunnel.TryCreate(context);
        var hasBody = tunnel is null && (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody
            ?? (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count != 0));

        // :: Step 1
        byte[]? buffered = null;
        StreamingRequestContent? streaming = null;
        var mirrors = tunnel is null ? plan.Mirrors : null;
        var retry = tunnel is null && plan.Retry is { Policy.Attempts: > 0 } r ? r : null;
        if (hasBody)
        {
            var length = context.Request.ContentLength;
            var forMirrors = mirrors is not null && length <= RequestMirrors.MaxBufferedBody;
            var forRetry = retry is not null && length <= MaxReplayableBody;
            if (forMirrors || forRetry)
            {
                buffered = await ReadSmallBodyAsync(context.Request.Body, (int)length!.Value, clientAborted).ConfigureAwait(false);
                if (buffered is null)
                {
                    return clientAborted.IsCancellationRequested ? ProxyError.ClientAborted : ProxyError.RequestBodyClient;
                }
            }
            else
            {
                streaming = new StreamingRequestContent(context.Request.Body, clientAborted);
            }

            if (mirrors is not null && !forMirrors)
            {
                Log.MirrorSkippedLargeBody(_logger, context.Request.Path.Value ?? "/");
                mirrors = null;
            }

            if (retry is not null && !forRetry)
            {
                // The body streams to the first backend as it arrives; there is no copy to send a second time.
                Log.RetrySkippedLargeBody(_logger, context.Request.Path.Value ?? "/");
                retry = null;
            }
        }

        // Deadlines cost a linked token source each (a registration on the client's token), so they exist only when
        // the route sets them; without one the client's own token stands in.
        using var overall = plan.Timeout is { } timeout && timeout > TimeSpan.Zero ? CancellationTokenSource.CreateLinkedTokenSource(clientAborted) : null;
        var overallEnds = long.MaxValue;
        if (overall is not null)
        {
            overall.CancelAfter(plan.Timeout!.Value);
            overallEnds = Environment.TickCount64 + (long)plan.Timeout.Value.TotalMilliseconds;
        }

        var overallToken = overall?.Token ?? clientAborted;

        // The kept try's request lives until its response is copied: an HTTP/2 request body may still be streaming.
        HttpRequestMessage? outgoing = null;
        CancellationTokenSource? tryDeadline = null;
        HttpResponseMessage? response = null;
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                // :: Step 2 (the content must exist before headers are copied so Content-* headers have a home)
                outgoing?.Dispose();
                outgoing = BuildRequest(context, plan, tunnel, buffered is not null ? new ByteArrayContent(buffered) : streaming);

                // :: Step 3
                if (attempt == 0 && mirrors is not null)
                {
                    _mirrors.Send(outgoing, buffered, plan.PathAndQuery, mirrors);
                }

                // :: Step 4
                tryDeadline?.Dispose();
                tryDeadline = null;
                if (plan.TryTimeout is { } tryTimeout && tryTimeout > TimeSpan.Zero)
                {
                    tryDeadline = CancellationTokenSource.CreateLinkedTokenSource(overallToken);
                    tryDeadline.CancelAfter(tryTimeout);
                }

                var tryToken = tryDeadline?.Token ?? overallToken;

                ProxyError error;
                try
                {
                    // Under a BackendTLSPolicy the URI stays http: the policy's client opens TLS below HTTP (see BackendTlsClient).
                    response = await (plan.Tls?.Invoker ?? _invoker).SendAsync(outgoing, tryToken).ConfigureAwait(false);
                    error = ProxyError.None;
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException or InvalidOperationException)
                {
                    error = ClassifySendFailure(ex, clientAborted, tryToken.IsCancellationRequested, streaming);
                    if (retry is null || attempt >= retry.Policy.Attempts || !IsRetryable(error, overallToken.IsCancellationRequested))
                    {
                        LogFailure(error, plan.Endpoint, ex);
                        return error;
                    }

                    Log.TryFailed(_logger, plan.Endpoint.ToString(), error, ex);
                }

                if (retry is null || attempt >= retry.Policy.Attempts
                    || (response is not null && !retry.Policy.Codes.Contains((int)response.StatusCode)))
                {
                    break;
                }

                // Only answers that are not kept reach here; their bodies are never read.
                var next = Environment.TickCount64 + (long)retry.Policy.Backoff.TotalMilliseconds < overallEnds ? retry.NextTry() : null;
                if (next is null)
                {
                    // No time left for another try, or no backend to take it: the last answer stands.
                    if (response is null)
                    {
                        return error;
                    }

                    break;
                }

                Log.Retrying(_logger, plan.Endpoint.ToString(), response is null ? error.ToString() : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), attempt + 1);
                response?.Dispose();
                response = null;
                if (retry.Policy.Backoff > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(retry.Policy.Backoff, overallToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return clientAborted.IsCancellationRequested ? ProxyError.ClientAborted : ProxyError.RequestTimedOut;
                    }
                }

                plan = next;
            }

            return await RespondAsync(context, plan, tunnel, response!, clientAborted, tryDeadline?.Token ?? overallToken).ConfigureAwait(false);
        }
        finally
        {
            response?.Dispose();
            outgoing?.Dispose();
            tryDeadline?.Dispose();
        }
    }

    /// <summary>
    /// Failures a retry may cure (GEP-1731 lets implementations retry connection errors): the endpoint could not be
    /// reached, the exchange broke before an answer, or the try's own deadline passed while the whole exchange has time.
    /// </summary>
    private static bool IsRetryable(ProxyError error, bool overallDeadlinePassed) => error switch
    {
        ProxyError.ConnectFailed or ProxyError.BackendError => true,
        ProxyError.RequestTimedOut => !overallDeadlinePassed,
        _ => false,
    };

    /// <summary>The backend request of one try: method, target, headers and the body to send.</summary>
    private static HttpRequestMessage BuildRequest(HttpContext context, ForwardPlan plan, UpgradeTunnel? tunnel, HttpContent? content)
    {
        var outgoing = new HttpRequestMessage(HttpMethod.Parse(context.Request.Method), new Uri("http://" + plan.Endpoint + plan.PathAndQuery, UriKind.Absolute))
        {
            Content = content,
        };
        SetVersion(outgoing, plan.Protocol);

        CopyRequestHeaders(context.Request.Headers, outgoing);
        outgoing.Headers.Host = plan.Host;
        ForwardedHeaders.Apply(context, outgoing, plan.ListenerPort);
        HeaderModifiers.Apply(plan.RequestHeaders, outgoing);
        HeaderModifiers.Apply(plan.BackendRequestHeaders, outgoing);
        tunnel?.PrepareRequest(outgoing);
        return outgoing;
    }

    /// <summary>
    /// The HTTP version a backend request goes with: an h2c backend is spoken to with HTTP/2 prior knowledge, never by
    /// falling back to HTTP/1.1 (RFC 9113 §3.3); any other with HTTP/1.1.
    /// </summary>
    internal static void SetVersion(HttpRequestMessage request, BackendProtocol protocol)
    {
        var h2c = protocol == BackendProtocol.H2c;
        request.Version = h2c ? HttpVersion.Version20 : HttpVersion.Version11;
        request.VersionPolicy = h2c ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower;
    }

    /// <summary>Steps 5 and 6 of <see cref="ForwardAsync"/>: the kept answer goes to the client.</summary>
    private async Task<ProxyError> RespondAsync(HttpContext context, ForwardPlan plan, UpgradeTunnel? tunnel, HttpResponseMessage response, CancellationToken clientAborted, CancellationToken deadline)
    {
        // :: Step 5
        var client = context.Response;
        client.StatusCode = (int)response.StatusCode;
        CopyResponseHeaders(response.Headers, client.Headers, plan.OwnAltSvc);
        CopyResponseHeaders(response.Content.Headers, client.Headers, plan.OwnAltSvc);
        HeaderModifiers.Apply(plan.ResponseHeaders, client.Headers);
        HeaderModifiers.Apply(plan.BackendResponseHeaders, client.Headers);
        plan.Cors?.ApplyToResponse(plan.Origin!, client.Headers);
        if (tunnel is not null && (response.StatusCode == HttpStatusCode.SwitchingProtocols || (tunnel.IsExtendedConnect && response.IsSuccessStatusCode)))
        {
            // A 2xx to an extended CONNECT would open the client's tunnel onto a backend that never switched.
            if (!tunnel.Accepted(response))
            {
                Log.ForwardFailed(_logger, plan.Endpoint.ToString(), ProxyError.BackendError, new HttpRequestException("the backend did not accept the WebSocket handshake (no 101, or a Sec-WebSocket-Accept that does not answer the key)"));
                client.Headers.Clear();
                return ProxyError.BackendError;
            }

            return await tunnel.RunAsync(context, response, clientAborted).ConfigureAwait(false);
        }

        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        // :: Step 6
        try
        {
            await client.StartAsync(deadline).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            var error = clientAborted.IsCancellationRequested ? ProxyError.ClientAborted : ProxyError.ResponseAbortedAfterStart;
            LogFailure(error, plan.Endpoint, ex);
            return error;
        }

        var copy = await CopyResponseBodyAsync(response, client.Body, deadline).ConfigureAwait(false);
        if (copy != BodyCopyResult.Completed)
        {
            Log.ResponseAborted(_logger, plan.Endpoint.ToString(), clientAborted.IsCancellationRequested ? BodyCopyResult.ClientFailed.ToString() : deadline.IsCancellationRequested ? "Timeout" : copy.ToString());
            return ProxyError.ResponseAbortedAfterStart;
        }

        CopyTrailers(response, context);
        return ProxyError.None;
    }

    /// <summary>Client request headers to the backend request, without hop-by-hop ones, pseudo-headers or Host.</summary>
    internal static void CopyRequestHeaders(IHeaderDictionary headers, HttpRequestMessage outgoing)
    {
        var connection = headers.Connection;
        foreach (var (name, values) in headers)
        {
            if (name.Length == 0 || name[0] == ':' || HopByHop.IsHopByHop(name) || string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase)
                || (connection.Count != 0 && HopByHop.IsListedIn(connection, name)))
            {
                continue;
            }

            if (HeaderModifiers.IsContentHeader(name))
            {
                if (outgoing.Content is { } content)
                {
                    content.Headers.Remove(name);
                    Add(content.Headers, name, values);
                }

                continue;
            }

            Add(outgoing.Headers, name, values);
        }

        static void Add(System.Net.Http.Headers.HttpHeaders target, string name, StringValues values)
        {
            if (values.Count == 1)
            {
                target.TryAddWithoutValidation(name, values[0]);
            }
            else
            {
                target.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
    }

    /// <summary>Backend response headers to the client, without hop-by-hop ones.</summary>
    internal static void CopyResponseHeaders(System.Net.Http.Headers.HttpHeaders source, IHeaderDictionary target, bool ownAltSvc)
    {
        source.TryGetValues("Connection", out var connection);
        foreach (var header in source.NonValidated)
        {
            var name = header.Key;
            if (HopByHop.IsHopByHop(name) || HopByHop.IsListedIn(connection, name)
                || (ownAltSvc && string.Equals(name, "Alt-Svc", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            var values = header.Value;
            target[name] = values.Count == 1 ? new StringValues(values.ToString()) : new StringValues([.. values]);
        }
    }

    private static void CopyTrailers(HttpResponseMessage response, HttpContext context)
    {
        if (!response.TrailingHeaders.NonValidated.GetEnumerator().MoveNext() || !context.Response.SupportsTrailers())
        {
            return;
        }

        foreach (var header in response.TrailingHeaders.NonValidated)
        {
            if (!HopByHop.IsHopByHop(header.Key))
            {
                context.Response.AppendTrailer(header.Key, new StringValues([.. header.Value]));
            }
        }
    }

    private static async Task<byte[]?> ReadSmallBodyAsync(Stream body, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        var filled = 0;
        try
        {
            while (filled < length)
            {
                var read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return null;
                }

                filled += read;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
        {
            return null;
        }

        return buffer;
    }

    private static async Task<BodyCopyResult> CopyResponseBodyAsync(HttpResponseMessage response, Stream destination, CancellationToken cancellationToken)
    {
        Stream source;
        try
        {
            source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            return BodyCopyResult.BackendFailed;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(StreamingRequestContent.BufferSize);
        try
        {
            await using (source.ConfigureAwait(false))
            {
                while (true)
                {
                    int read;
                    try
                    {
                        read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
                    {
                        return BodyCopyResult.BackendFailed;
                    }

                    if (read == 0)
                    {
                        return BodyCopyResult.Completed;
                    }

                    try
                    {
                        // Kestrel's response stream flushes each write, so the client sees data as the backend sends it.
                        await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
                    {
                        return BodyCopyResult.ClientFailed;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ProxyError ClassifySendFailure(Exception ex, CancellationToken clientAborted, bool deadlinePassed, StreamingRequestContent? content)
    {
        if (clientAborted.IsCancellationRequested)
        {
            return ProxyError.ClientAborted;
        }

        if (content is { ClientFailed: true })
        {
            return ProxyError.RequestBodyClient;
        }

        if (deadlinePassed)
        {
            return ProxyError.RequestTimedOut;
        }

        if (content is { BackendFailed: true })
        {
            return ProxyError.RequestBodyBackend;
        }

        if (BackendTlsFailures.IsTlsFailure(ex))
        {
            return ProxyError.BackendTlsHandshake;
        }

        if (ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }
            || ex.InnerException is SocketException)
        {
            return ProxyError.ConnectFailed;
        }

        // The handler's own ConnectTimeout surfaces as a cancellation that is neither the client's nor ours.
        return ex is OperationCanceledException ? ProxyError.ConnectFailed : ProxyError.BackendError;
    }

    private void LogFailure(ProxyError error, EndpointIr endpoint, Exception ex)
    {
        if (error is ProxyError.ClientAborted or ProxyError.RequestBodyClient)
        {
            Log.ClientAborted(_logger, endpoint.ToString(), error, ex);
        }
        else
        {
            Log.ForwardFailed(_logger, endpoint.ToString(), error, ex);
        }
    }

    private enum BodyCopyResult
    {
        Completed,
        BackendFailed,
        ClientFailed,
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Forwarding to {Endpoint} failed: {Error}")]
        public static partial void ForwardFailed(ILogger logger, string endpoint, ProxyError error, Exception exception);

        [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Client went away while forwarding to {Endpoint}: {Error}")]
        public static partial void ClientAborted(ILogger logger, string endpoint, ProxyError error, Exception exception);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Response from {Endpoint} aborted after it started: {Cause}")]
        public static partial void ResponseAborted(ILogger logger, string endpoint, string cause);

        [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Request to {Path} not mirrored: its body is larger than the mirror buffer or of unknown length")]
        public static partial void MirrorSkippedLargeBody(ILogger logger, string path);

        [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "Request to {Path} not retried: its body is larger than the replay buffer or of unknown length")]
        public static partial void RetrySkippedLargeBody(ILogger logger, string path);

        [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Try to {Endpoint} failed: {Error}; the route retries")]
        public static partial void TryFailed(ILogger logger, string endpoint, ProxyError error, Exception exception);

        [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "Retrying after {Endpoint} answered {Outcome} (retry {Retry})")]
        public static partial void Retrying(ILogger logger, string endpoint, string outcome, int retry);
    }
}
