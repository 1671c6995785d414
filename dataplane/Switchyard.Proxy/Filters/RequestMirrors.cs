using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Switchyard.Ir;
using Switchyard.Proxy.Forwarding;

namespace Switchyard.Proxy.Filters;

/// <summary>A route's mirror compiled for the data plane: its IR and, under a BackendTLSPolicy, the TLS client.</summary>
/// <param name="Ir">The mirror.</param>
/// <param name="Tls">The TLS client for the mirror backend, or null for cleartext.</param>
internal sealed record CompiledMirror(MirrorIr Ir, BackendTlsClient? Tls);

/// <summary>One sampled copy: where it goes, how the backend is spoken to, and its TLS client.</summary>
/// <param name="Endpoint">The mirror endpoint.</param>
/// <param name="Protocol">The mirror backend's protocol (HTTP/1.1, or h2c with prior knowledge).</param>
/// <param name="Tls">The TLS client, or null for cleartext.</param>
internal readonly record struct MirrorCopy(EndpointIr Endpoint, BackendProtocol Protocol, BackendTlsClient? Tls);

/// <summary>
/// The Gateway API RequestMirror filter: for each mirror whose fraction is sampled, a copy of the request goes to one
/// endpoint of the mirror backend, fire-and-forget. Mirror responses are discarded and mirror failures never touch
/// the client's response. Copies in flight are bounded; beyond the bound a copy is dropped, not queued.
/// </summary>
internal sealed partial class RequestMirrors(HttpMessageInvoker invoker, ILogger logger)
{
    /// <summary>Request bodies up to this size are buffered so mirrors can carry them; larger bodies are not mirrored.</summary>
    public const int MaxBufferedBody = 64 * 1024;

    /// <summary>Copies in flight at once, across all routes.</summary>
    public const int MaxInFlight = 256;

    /// <summary>A copy that takes longer than this is cancelled.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private int _inFlight;

    /// <summary>Copies in flight now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Samples each mirror's fraction and picks an endpoint for those chosen.</summary>
    /// <param name="mirrors">The route's mirrors, compiled with their TLS clients.</param>
    /// <param name="random">Random source.</param>
    /// <returns>The copies to send, or null when none.</returns>
    public static List<MirrorCopy>? Sample(CompiledMirror[] mirrors, Random random)
    {
        List<MirrorCopy>? targets = null;
        foreach (var mirror in mirrors)
        {
            var backend = mirror.Ir.Backend;
            var endpoints = backend.Endpoints;
            if (endpoints.IsDefaultOrEmpty || mirror.Ir.Denominator <= 0 || random.Next(mirror.Ir.Denominator) >= mirror.Ir.Numerator
                || WeightedBackends.MissesTlsClient(backend, mirror.Tls))
            {
                continue;
            }

            var endpoint = endpoints[endpoints.Length == 1 ? 0 : random.Next(endpoints.Length)];
            (targets ??= []).Add(new MirrorCopy(endpoint, backend.Protocol, mirror.Tls));
        }

        return targets;
    }

    /// <summary>Sends a copy of <paramref name="template"/> (headers as sent to the backend) to each target, without waiting.</summary>
    /// <param name="template">The backend request, fully prepared except for its body.</param>
    /// <param name="body">The buffered body, or null for none.</param>
    /// <param name="pathAndQuery">The encoded path and query sent to the backend.</param>
    /// <param name="targets">The sampled copies.</param>
    public void Send(HttpRequestMessage template, byte[]? body, string pathAndQuery, List<MirrorCopy> targets)
    {
        foreach (var target in targets)
        {
            if (Interlocked.Increment(ref _inFlight) > MaxInFlight)
            {
                Interlocked.Decrement(ref _inFlight);
                Log.MirrorDropped(logger, target.Endpoint.ToString());
                continue;
            }

            HttpRequestMessage copy;
            try
            {
                // Under a BackendTLSPolicy the URI stays http: the policy's client opens TLS below HTTP (see BackendTlsClient).
                copy = Copy(template, body, new Uri("http://" + target.Endpoint + pathAndQuery, UriKind.Absolute), target.Protocol);
            }
            catch (UriFormatException ex)
            {
                Interlocked.Decrement(ref _inFlight);
                Log.MirrorFailed(logger, target.Endpoint.ToString(), ex);
                continue;
            }

            _ = SendOneAsync(copy, target);
        }
    }

    private static HttpRequestMessage Copy(HttpRequestMessage template, byte[]? body, Uri uri, BackendProtocol protocol)
    {
        var copy = new HttpRequestMessage(template.Method, uri);

        // The mirror backend's own appProtocol decides the version, not the main backend's.
        HttpForwarder.SetVersion(copy, protocol);

        foreach (var header in template.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        if (body is not null)
        {
            copy.Content = new ByteArrayContent(body);
            if (template.Content is { } content)
            {
                foreach (var header in content.Headers)
                {
                    copy.Content.Headers.Remove(header.Key);
                    copy.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }
            }
        }

        return copy;
    }

    private async Task SendOneAsync(HttpRequestMessage copy, MirrorCopy target)
    {
        // Leave the caller's thread at once: the mirror must not delay the main request.
        await Task.Yield();
        try
        {
            using var cts = new CancellationTokenSource(Timeout);
            using var response = await (target.Tls?.Invoker ?? invoker).SendAsync(copy, cts.Token).ConfigureAwait(false);
            Log.MirrorSent(logger, target.Endpoint.ToString(), (int)response.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            Log.MirrorFailed(logger, target.Endpoint.ToString(), ex);
        }
        finally
        {
            copy.Dispose();
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 20, Level = LogLevel.Debug, Message = "Mirror copy to {Endpoint} answered {Status}")]
        public static partial void MirrorSent(ILogger logger, string endpoint, int status);

        [LoggerMessage(EventId = 21, Level = LogLevel.Debug, Message = "Mirror copy to {Endpoint} failed")]
        public static partial void MirrorFailed(ILogger logger, string endpoint, Exception exception);

        [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "Mirror copy to {Endpoint} dropped: too many copies in flight")]
        public static partial void MirrorDropped(ILogger logger, string endpoint);
    }
}
