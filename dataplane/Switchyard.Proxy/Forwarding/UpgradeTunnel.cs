using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Switchyard.Proxy.Forwarding;

/// <summary>
/// WebSocket requests through the gateway: an HTTP/1.1 <c>Upgrade: websocket</c> (RFC 6455 §4) or an HTTP/2
/// extended CONNECT with <c>:protocol websocket</c> (RFC 8441 §4) from the client becomes an HTTP/1.1 upgrade to
/// the backend; when the backend answers 101 the client's side is switched too and bytes are relayed both ways
/// until either side closes. The frames are not parsed: the gateway only carries them.
/// </summary>
internal sealed class UpgradeTunnel
{
    /// <summary>The RFC 6455 §1.3 GUID that <c>Sec-WebSocket-Accept</c> is derived with.</summary>
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private const string WebSocket = "websocket";

    private readonly IHttpUpgradeFeature? _upgrade;
    private readonly IHttpExtendedConnectFeature? _connect;
    private readonly string? _key;

    private UpgradeTunnel(IHttpUpgradeFeature? upgrade, IHttpExtendedConnectFeature? connect, string? key)
    {
        _upgrade = upgrade;
        _connect = connect;
        _key = key;
    }

    /// <summary>The client's request is a WebSocket opening handshake the gateway can carry; null otherwise.</summary>
    public static UpgradeTunnel? TryCreate(HttpContext context)
    {
        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect
            && string.Equals(connect.Protocol, WebSocket, StringComparison.OrdinalIgnoreCase))
        {
            // RFC 8441 §5: no Sec-WebSocket-Key on HTTP/2; the gateway is the HTTP/1.1 client and makes its own.
            return new UpgradeTunnel(null, connect, Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));
        }

        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade
            && HttpMethods.IsGet(context.Request.Method)
            && context.Request.Headers.Upgrade.ToString().Split(',').Any(t => t.Trim().Equals(WebSocket, StringComparison.OrdinalIgnoreCase)))
        {
            return new UpgradeTunnel(upgrade, null, null);
        }

        return null;
    }

    /// <summary>Turns the prepared backend request into an HTTP/1.1 upgrade request (headers are already copied, without hop-by-hop ones).</summary>
    public void PrepareRequest(HttpRequestMessage outgoing)
    {
        outgoing.Method = HttpMethod.Get;
        outgoing.Version = HttpVersion.Version11;
        outgoing.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        outgoing.Content = null;
        outgoing.Headers.TryAddWithoutValidation(HeaderNames.Connection, "Upgrade");
        outgoing.Headers.TryAddWithoutValidation(HeaderNames.Upgrade, WebSocket);
        if (_key is not null)
        {
            outgoing.Headers.Remove(HeaderNames.SecWebSocketKey);
            outgoing.Headers.TryAddWithoutValidation(HeaderNames.SecWebSocketKey, _key);
            if (!outgoing.Headers.Contains(HeaderNames.SecWebSocketVersion))
            {
                outgoing.Headers.TryAddWithoutValidation(HeaderNames.SecWebSocketVersion, "13");
            }
        }
    }

    /// <summary>True for an RFC 8441 extended CONNECT, where any 2xx would tell the client its tunnel is open.</summary>
    public bool IsExtendedConnect => _connect is not null;

    /// <summary>True when the backend switched protocols as asked (and, for a key the gateway made, proved it read it).</summary>
    public bool Accepted(HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.SwitchingProtocols)
        {
            return false;
        }

        if (_key is null)
        {
            return true;
        }

        // RFC 6455 §4.1: as the client of this handshake the gateway checks Sec-WebSocket-Accept.
        var expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(_key + AcceptGuid)));
        return response.Headers.TryGetValues(HeaderNames.SecWebSocketAccept, out var values) && values.FirstOrDefault() == expected;
    }

    /// <summary>
    /// Switches the client's side and relays bytes until either side ends. Response headers (already copied from the
    /// backend's 101, without hop-by-hop ones) go with the client's 101, or with the 200 of an extended CONNECT.
    /// </summary>
    /// <returns><see cref="ProxyError.None"/> when the tunnel ran; an error when the client's side could not be switched.</returns>
    public async Task<ProxyError> RunAsync(HttpContext context, HttpResponseMessage response, CancellationToken clientAborted)
    {
        Stream backend;
        try
        {
            backend = await response.Content.ReadAsStreamAsync(clientAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            return clientAborted.IsCancellationRequested ? ProxyError.ClientAborted : ProxyError.BackendError;
        }

        await using (backend.ConfigureAwait(false))
        {
            Stream client;
            var headers = context.Response.Headers;
            try
            {
                if (_connect is not null)
                {
                    // RFC 8441 §5: the 101's handshake headers have no HTTP/2 meaning; a 2xx opens the tunnel.
                    headers.Remove(HeaderNames.SecWebSocketAccept);
                    context.Response.StatusCode = StatusCodes.Status200OK;
                    client = await _connect.AcceptAsync().ConfigureAwait(false);
                }
                else
                {
                    headers.Upgrade = WebSocket;
                    client = await _upgrade!.UpgradeAsync().ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
            {
                return clientAborted.IsCancellationRequested ? ProxyError.ClientAborted : ProxyError.ResponseAbortedAfterStart;
            }

            await using (client.ConfigureAwait(false))
            {
                using var done = CancellationTokenSource.CreateLinkedTokenSource(clientAborted);
                var up = PumpAsync(client, backend, done.Token);
                var down = PumpAsync(backend, client, done.Token);

                // Either side ending ends the tunnel: WebSocket's close handshake has already crossed by then.
                await Task.WhenAny(up, down).ConfigureAwait(false);
                await done.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(up, down).ConfigureAwait(false);
                return ProxyError.None;
            }
        }
    }

    /// <summary>Copies until end of stream, failure or cancellation; never throws.</summary>
    private static async Task PumpAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(StreamingRequestContent.BufferSize);
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                await to.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or HttpRequestException or InvalidOperationException)
        {
            // One side went away; the caller tears the other down.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
