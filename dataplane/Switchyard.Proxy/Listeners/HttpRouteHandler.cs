using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Switchyard.Proxy.Filters;
using Switchyard.Proxy.Forwarding;

namespace Switchyard.Proxy.Listeners;

/// <summary>
/// The HTTPRoute pipeline for one request, whatever server received it (Kestrel on TCP, or HTTP/3 through
/// <see cref="IHttpRequestHandler"/>): match, filters, forward, and map the outcome to the response in one place.
/// </summary>
internal sealed partial class HttpRouteHandler
{
    private readonly HttpForwarder _forwarder;
    private readonly ILogger _logger;
    private readonly Random _random;

    /// <summary>Creates the pipeline.</summary>
    public HttpRouteHandler(HttpForwarder forwarder, ILogger logger, Random? random = null)
    {
        _forwarder = forwarder;
        _logger = logger;
        _random = random ?? Random.Shared;
    }

    /// <summary>Serves one request with the port's current state.</summary>
    /// <param name="context">The request.</param>
    /// <param name="state">The port state, read once by the caller at the request's start.</param>
    public async Task HandleAsync(HttpContext context, PortState state)
    {
        if (state.AltSvc is { } altSvc)
        {
            context.Response.Headers.AltSvc = altSvc;
        }

        ProxyError error;
        try
        {
            error = await RouteAsync(context, state).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException && context.RequestAborted.IsCancellationRequested)
        {
            error = ProxyError.ClientAborted;
        }

        ProxyErrors.Apply(context, error);
    }

    /// <remarks>
    /// 1. Match: listener and virtual host by Host, route by precedence; a Host that selects a different listener than
    ///    the TLS SNI is misdirected.
    /// 2. CORS: answer a preflight here; for other requests with an Origin, the answer gets the CORS headers. Then a
    ///    redirect or fixed response, when the rule says so.
    /// 3. Choose a backend by weight and one of its endpoints.
    /// 4. Plan: URLRewrite path and host, timeouts, sampled mirrors, and the retry policy with a way to choose again.
    /// 5. Forward.
    /// </remarks>
    private Task<ProxyError> RouteAsync(HttpContext context, PortState state)
    {
        var request = context.Request;

        // :: Step 1
        var match = state.Routes.Match(request);
        if (state.Routes.Listeners.Count > 1 && match.Listener is not null
            && context.Features.Get<ITlsHandshakeFeature>()?.HostName is { Length: > 0 } serverName
            && state.Routes.FindListener(serverName) is { } sniListener && !ReferenceEquals(sniListener, match.Listener))
        {
            // RFC 9110 §15.5.20: this connection's certificate was chosen for another listener.
            return Task.FromResult(ProxyError.MisdirectedRequest);
        }

        if (match.Route is not { } route)
        {
            Log.NoRoute(_logger, request.Host.Value ?? string.Empty, request.Method, request.Path.Value ?? "/");
            return Task.FromResult(ProxyError.NoRoute);
        }

        var ir = route.Ir;

        // :: Step 2
        string? origin = null;
        if (route.Cors is { } cors && request.Headers.Origin.Count != 0)
        {
            if (CorsPolicy.IsPreflight(request))
            {
                cors.AnswerPreflight(request, context.Response);
                return Task.FromResult(ProxyError.None);
            }

            origin = request.Headers.Origin.ToString();
        }

        if (ir.Redirect is { } redirect)
        {
            context.Response.StatusCode = redirect.StatusCode;
            context.Response.Headers.Location = RequestRedirect.Location(redirect, route, request, state.Port);
            context.Response.ContentLength = 0;
            HeaderModifiers.Apply(ir.ResponseHeaders, context.Response.Headers);
            ApplyCors(route, origin, context);
            return Task.FromResult(ProxyError.None);
        }

        if (ir.DirectResponseStatus is { } status)
        {
            context.Response.StatusCode = status;
            context.Response.ContentLength = 0;
            HeaderModifiers.Apply(ir.ResponseHeaders, context.Response.Headers);
            ApplyCors(route, origin, context);
            return Task.FromResult(ProxyError.None);
        }

        // :: Step 3
        var choice = route.Backends.Choose(_random);
        if (choice.Error != ProxyError.None)
        {
            Log.NoBackend(_logger, ir.Name, choice.Error);
            return Task.FromResult(choice.Error);
        }

        // :: Step 4
        var path = request.Path.HasValue ? request.Path.Value! : "/";
        string encodedPath;
        if (ir.Rewrite?.Path is { } rewrite)
        {
            encodedPath = PathModifiers.Encode(PathModifiers.Apply(rewrite, route, path));
        }
        else
        {
            encodedPath = request.Path.HasValue ? request.Path.ToUriComponent() : "/";
        }

        var pathAndQuery = request.QueryString.HasValue ? encodedPath + request.QueryString.Value : encodedPath;
        var plan = Plan(choice, RequestMirrors.Sample(route.Mirrors, _random));

        // :: Step 5
        return _forwarder.ForwardAsync(context, plan);

        // A retry chooses a backend again (GEP-1731: each try may reach another endpoint); mirrors go with the first try only.
        ForwardPlan Plan(BackendChoice choice, List<MirrorCopy>? mirrors) => new()
        {
            Endpoint = choice.Endpoint!,
            PathAndQuery = pathAndQuery,
            Host = ir.Rewrite?.Hostname ?? (request.Host.HasValue ? request.Host.Value! : choice.Endpoint!.ToString()),
            ListenerPort = state.Port,
            RequestHeaders = ir.RequestHeaders,
            BackendRequestHeaders = choice.Backend!.RequestHeaders,
            ResponseHeaders = ir.ResponseHeaders,
            BackendResponseHeaders = choice.Backend.ResponseHeaders,
            // timeouts.request bounds every try together; timeouts.backendRequest bounds each (Gateway API GEP-1742).
            Timeout = Deadline(ir.RequestTimeout, null),
            TryTimeout = Deadline(ir.BackendRequestTimeout, null),
            Mirrors = mirrors,
            OwnAltSvc = state.AltSvc is not null,
            Protocol = choice.Backend.Backend.Protocol,
            Cors = origin is null ? null : route.Cors,
            Origin = origin,
            Tls = choice.Tls,
            Retry = ir.Retry is { Attempts: > 0 } retry ? new RetryPlan(retry, NextTry) : null,
        };

        ForwardPlan? NextTry()
        {
            var next = route.Backends.Choose(_random);
            return next.Error == ProxyError.None ? Plan(next, null) : null;
        }
    }

    private static void ApplyCors(Matching.CompiledRoute route, string? origin, HttpContext context)
    {
        if (origin is not null)
        {
            route.Cors!.ApplyToResponse(origin, context.Response.Headers);
        }
    }

    /// <summary>The tighter of the two HTTPRoute timeouts; null or zero means none (Gateway API: zero disables).</summary>
    internal static TimeSpan? Deadline(TimeSpan? request, TimeSpan? backendRequest)
    {
        TimeSpan? result = null;
        foreach (var t in (ReadOnlySpan<TimeSpan?>)[request, backendRequest])
        {
            if (t is { } value && value > TimeSpan.Zero && (result is null || value < result))
            {
                result = value;
            }
        }

        return result;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "No route for {Method} {Host}{Path}")]
        public static partial void NoRoute(ILogger logger, string host, string method, string path);

        [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Route {Route} has no usable backend: {Error}")]
        public static partial void NoBackend(ILogger logger, string route, ProxyError error);
    }
}
