using System.Diagnostics;
using System.Net;
using Switchyard.Ir;

namespace Switchyard.Delivery;

/// <summary>Who a message belongs to, carried to the backend as <c>X-Session-Id</c>, <c>X-Stream-Id</c> and <c>X-Message-Seq</c>.</summary>
/// <param name="SessionId">The WebTransport session ID.</param>
/// <param name="StreamId">The QUIC stream ID of the WebTransport stream.</param>
/// <param name="Sequence">The message's position on its stream, from 1.</param>
public readonly record struct MessageContext(string SessionId, long StreamId, long Sequence);

/// <summary>The result of delivering one message, after every retry.</summary>
/// <param name="Outcome">Delivered, or why not.</param>
/// <param name="Attempts">Requests made.</param>
/// <param name="Elapsed">Time from the first attempt to the outcome.</param>
/// <param name="StatusCode">The last HTTP status, when a response came.</param>
public readonly record struct DeliveryResult(DeliveryOutcome Outcome, int Attempts, TimeSpan Elapsed, int? StatusCode);

/// <summary>
/// <c>Message</c> delivery: one HTTP POST per message, compatible with the seed's processors. Retries are bounded and
/// back off exponentially; a 2xx means delivered.
/// </summary>
/// <remarks>
/// Delivery is at least once: a POST whose response was lost is sent again, so a backend that must not count twice can
/// de-duplicate on (<c>X-Session-Id</c>, <c>X-Stream-Id</c>, <c>X-Message-Seq</c>).
/// </remarks>
public sealed class HttpMessageDeliverer : IDisposable
{
    /// <summary>Backoff never grows past this, whatever the attempt count.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private readonly HttpMessageInvoker _invoker;
    private readonly bool _ownsInvoker;
    private readonly TimeProvider _time;

    /// <summary>Creates a deliverer with its own pooled HTTP/1.1 connections per backend endpoint.</summary>
    public HttpMessageDeliverer(TimeProvider? time = null)
        : this(new HttpMessageInvoker(CreateHandler()), ownsInvoker: true, time)
    {
    }

    /// <summary>Creates a deliverer over a caller-supplied invoker.</summary>
    public HttpMessageDeliverer(HttpMessageInvoker invoker, bool ownsInvoker, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(invoker);
        _invoker = invoker;
        _ownsInvoker = ownsInvoker;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// The connection-pooling handler used for backends: no proxy, no cookies, no redirects, no decompression. Header
    /// values are sent as UTF-8, since a <c>track_id</c> is UTF-8 (the default would refuse any non-ASCII value).
    /// </summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        RequestHeaderEncodingSelector = static (_, _) => System.Text.Encoding.UTF8,
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        MaxConnectionsPerServer = 64,
    };

    /// <summary>POSTs one message to <paramref name="endpoint"/>, retrying as <paramref name="delivery"/> allows.</summary>
    /// <param name="endpoint">The backend endpoint chosen for the (stream, rule).</param>
    /// <param name="delivery">Path, timeout and retry settings of the rule.</param>
    /// <param name="trackId">The header's track ID.</param>
    /// <param name="trackType">The header's track type.</param>
    /// <param name="payload">The payload (owned by the caller until this completes).</param>
    /// <param name="context">Session, stream and sequence.</param>
    /// <param name="cancellationToken">Cancels delivery (the session ended).</param>
    /// <param name="protocol">The backend's protocol: HTTP/1.1, or HTTP/2 with prior knowledge for an h2c Service port.</param>
    public async ValueTask<DeliveryResult> DeliverAsync(
        EndpointIr endpoint,
        DeliveryIr delivery,
        string trackId,
        string trackType,
        ReadOnlyMemory<byte> payload,
        MessageContext context,
        CancellationToken cancellationToken,
        BackendProtocol protocol = BackendProtocol.Http1)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(delivery);
        var started = _time.GetTimestamp();
        var uri = new Uri($"http://{endpoint}{delivery.Path}");
        var attempts = 0;
        int? status = null;
        var outcome = DeliveryOutcome.BackendUnavailable;
        var maxAttempts = 1 + Math.Clamp(delivery.RetryAttempts, 0, 10);
        while (attempts < maxAttempts)
        {
            if (attempts > 0)
            {
                await Task.Delay(Backoff(delivery.RetryBackoff, attempts), _time, cancellationToken).ConfigureAwait(false);
            }

            attempts++;
            (outcome, status) = await SendOnceAsync(uri, VersionOf(protocol), delivery.Timeout, trackId, trackType, payload, context, cancellationToken).ConfigureAwait(false);
            if (outcome is DeliveryOutcome.Delivered or DeliveryOutcome.BackendRejected)
            {
                break;
            }
        }

        return new DeliveryResult(outcome, attempts, _time.GetElapsedTime(started), status);
    }

    /// <summary>The delay before attempt <paramref name="retry"/> + 1: base × 2^(retry − 1), capped at <see cref="MaxBackoff"/>.</summary>
    public static TimeSpan Backoff(TimeSpan baseDelay, int retry)
    {
        var factor = Math.Pow(2, Math.Clamp(retry - 1, 0, 16));
        var delay = TimeSpan.FromTicks((long)Math.Min(baseDelay.Ticks * factor, MaxBackoff.Ticks));
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
    }

    /// <summary>The HTTP version a backend is spoken to with: 2.0 with prior knowledge for h2c (RFC 9113 §3.3), else 1.1.</summary>
    internal static Version VersionOf(BackendProtocol protocol) => protocol == BackendProtocol.H2c ? HttpVersion.Version20 : HttpVersion.Version11;

    private async ValueTask<(DeliveryOutcome Outcome, int? Status)> SendOnceAsync(
        Uri uri,
        Version version,
        TimeSpan timeout,
        string trackId,
        string trackType,
        ReadOnlyMemory<byte> payload,
        MessageContext context,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Version = version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ReadOnlyMemoryContent(payload),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/octet-stream");
        request.Headers.TryAddWithoutValidation("X-Track-Id", trackId);
        request.Headers.TryAddWithoutValidation("X-Track-Type", trackType);
        request.Headers.TryAddWithoutValidation("X-Session-Id", context.SessionId);
        request.Headers.TryAddWithoutValidation("X-Stream-Id", context.StreamId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("X-Message-Seq", context.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var response = await _invoker.SendAsync(request, timeoutSource.Token).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            return (Classify(code), code);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Our own timeout, not the caller's cancellation: retryable.
            return (DeliveryOutcome.BackendUnavailable, null);
        }
        catch (HttpRequestException)
        {
            return (DeliveryOutcome.BackendUnavailable, null);
        }
    }

    /// <summary>2xx delivered; 408, 429 and 5xx are worth retrying; any other status is a refusal.</summary>
    internal static DeliveryOutcome Classify(int status) => status switch
    {
        >= 200 and < 300 => DeliveryOutcome.Delivered,
        408 or 429 or >= 500 => DeliveryOutcome.BackendUnavailable,
        _ => DeliveryOutcome.BackendRejected,
    };

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsInvoker)
        {
            _invoker.Dispose();
        }
    }
}
