using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Switchyard.Ir;
using Switchyard.Proxy.Forwarding;

namespace Switchyard.Proxy.Filters;

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
    /// <param name="mirrors">The route's mirrors.</param>
    /// <param name="random">Random source.</param>
    /// <returns>Endpoints to copy to, or null when none.</returns>
    public static List<EndpointIr>? Sample(ImmutableArray<MirrorIr> mirrors, Random random)
    {
        if (mirrors.IsDefaultOrEmpty)
        {
            return null;
        }

        List<EndpointIr>? targets = null;
        foreach (var mirror in mirrors)
        {
            var endpoints = mirror.Backend.Endpoints;
            if (endpoints.IsDefaultOrEmpty || mirror.Denominator <= 0 || random.Next(mirror.Denominator) >= mirror.Numerator)
            {
                continue;
            }

            (targets ??= []).Add(endpoints[endpoints.Length == 1 ? 0 : random.Next(endpoints.Length)]);
        }

        return targets;
    }

    /// <summary>Sends a copy of <paramref name="template"/> (headers as sent to the backend) to each target, without waiting.</summary>
    /// <param name="template">The backend request, fully prepared except for its body.</param>
    /// <param name="body">The buffered body, or null for none.</param>
    /// <param name="pathAndQuery">The encoded path and query sent to the backend.</param>
    /// <param name="targets">Mirror endpoints.</param>
    public void Send(HttpRequestMessage template, byte[]? body, string pathAndQuery, List<EndpointIr> targets)
    {
        foreach (var target in targets)
        {
            if (Interlocked.Increment(ref _inFlight) > MaxInFlight)
            {
                Interlocked.Decrement(ref _inFlight);
                Log.MirrorDropped(logger, target.ToString());
                continue;
            }

            HttpRequestMessage copy;
            try
            {
                copy = Copy(template, body, new Uri("http://" + target + pathAndQuery, UriKind.Absolute));
            }
            catch (UriFormatException ex)
            {
                Interlocked.Decrement(ref _inFlight);
                Log.MirrorFailed(logger, target.ToString(), ex);
                continue;
            }

            _ = SendOneAsync(copy, target);
        }
    }

    private static HttpRequestMessage Copy(HttpRequestMessage template, byte[]? body, Uri uri)
    {
        var copy = new HttpRequestMessage(template.Method, uri)
        {
            Version = template.Version,
            VersionPolicy = template.VersionPolicy,
        };

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

    private async Task SendOneAsync(HttpRequestMessage copy, EndpointIr target)
    {
        // Leave the caller's thread at once: the mirror must not delay the main request.
        await Task.Yield();
        try
        {
            using var cts = new CancellationTokenSource(Timeout);
            using var response = await invoker.SendAsync(copy, cts.Token).ConfigureAwait(false);
            Log.MirrorSent(logger, target.ToString(), (int)response.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            Log.MirrorFailed(logger, target.ToString(), ex);
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
