using Microsoft.AspNetCore.Http;

namespace Switchyard.Proxy.Forwarding;

/// <summary>
/// Why a proxied request did not complete normally. Expected failures are values, not exceptions; they become HTTP
/// statuses in exactly one place, <see cref="ProxyErrors.StatusCode"/>.
/// </summary>
public enum ProxyError
{
    /// <summary>The request completed.</summary>
    None = 0,

    /// <summary>No listener, virtual host or route matched the request (404).</summary>
    NoRoute,

    /// <summary>The Host names a different listener than the TLS SNI the connection was made for (421, RFC 9110 §15.5.20).</summary>
    MisdirectedRequest,

    /// <summary>The rule's chosen backend is unresolved or the rule has no backend that can take traffic (500, Gateway API).</summary>
    NoValidBackend,

    /// <summary>The chosen backend has no ready endpoint (503, Gateway API).</summary>
    NoHealthyEndpoints,

    /// <summary>The TCP connection to the endpoint could not be made (503: nothing was sent, the backend is unavailable).</summary>
    ConnectFailed,

    /// <summary>The request was sent but no valid response came (502).</summary>
    BackendError,

    /// <summary>The TLS handshake with the backend failed: its certificate was refused under the BackendTLSPolicy, or it refused ours (502).</summary>
    BackendTlsHandshake,

    /// <summary>The route's <c>timeouts.request</c> or <c>timeouts.backendRequest</c> elapsed before the response (504).</summary>
    RequestTimedOut,

    /// <summary>Reading the request body from the client failed (400).</summary>
    RequestBodyClient,

    /// <summary>Writing the request body to the backend failed (502).</summary>
    RequestBodyBackend,

    /// <summary>The client went away before the response started.</summary>
    ClientAborted,

    /// <summary>The response had started when the backend, the client or a timeout cut it; the response is aborted, not truncated.</summary>
    ResponseAbortedAfterStart,
}

/// <summary>The one place that maps <see cref="ProxyError"/> to HTTP.</summary>
public static class ProxyErrors
{
    /// <summary>The status a client receives for <paramref name="error"/> when the response has not started.</summary>
    /// <param name="error">The failure.</param>
    /// <returns>The HTTP status code.</returns>
    public static int StatusCode(ProxyError error) => error switch
    {
        ProxyError.None => StatusCodes.Status200OK,
        ProxyError.NoRoute => StatusCodes.Status404NotFound,
        ProxyError.MisdirectedRequest => StatusCodes.Status421MisdirectedRequest,
        ProxyError.NoValidBackend => StatusCodes.Status500InternalServerError,
        ProxyError.NoHealthyEndpoints => StatusCodes.Status503ServiceUnavailable,
        ProxyError.ConnectFailed => StatusCodes.Status503ServiceUnavailable,
        ProxyError.BackendError => StatusCodes.Status502BadGateway,
        ProxyError.BackendTlsHandshake => StatusCodes.Status502BadGateway,
        ProxyError.RequestTimedOut => StatusCodes.Status504GatewayTimeout,
        ProxyError.RequestBodyClient => StatusCodes.Status400BadRequest,
        ProxyError.RequestBodyBackend => StatusCodes.Status502BadGateway,
        ProxyError.ClientAborted => StatusCodes.Status400BadRequest,
        ProxyError.ResponseAbortedAfterStart => StatusCodes.Status502BadGateway,
        _ => StatusCodes.Status502BadGateway,
    };

    /// <summary>
    /// Ends <paramref name="context"/> for <paramref name="error"/>: an error status with an empty body when the
    /// response has not started, otherwise an abort (an HTTP/2 RST_STREAM or a closed HTTP/1.1 connection) so the
    /// client cannot mistake a cut body for a whole one.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="error">The failure; <see cref="ProxyError.None"/> does nothing.</param>
    public static void Apply(HttpContext context, ProxyError error)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (error == ProxyError.None)
        {
            return;
        }

        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        if (error == ProxyError.ClientAborted)
        {
            // Nobody is listening; closing is all that is left.
            context.Abort();
            return;
        }

        // Headers set so far (Alt-Svc, route response headers) stay; no backend header has been copied yet.
        context.Response.StatusCode = StatusCode(error);
        context.Response.ContentLength = 0;
    }
}
