using Microsoft.AspNetCore.Http;
using Switchyard.Ir;
using Switchyard.Proxy.Forwarding;

namespace Switchyard.Proxy.Matching;

/// <summary>The routes of one virtual host, sorted by HTTPRoute precedence.</summary>
internal sealed class VirtualHostRoutes(VirtualHostIr ir, CompiledRoute[] routes)
{
    /// <summary>The virtual host as the IR gives it.</summary>
    public VirtualHostIr Ir { get; } = ir;

    /// <summary>Routes, most specific first.</summary>
    public CompiledRoute[] Routes { get; } = routes;
}

/// <summary>One listener's virtual hosts.</summary>
internal sealed class ListenerRoutes(ListenerIr ir, HostMap<VirtualHostRoutes> virtualHosts)
{
    /// <summary>The listener as the IR gives it.</summary>
    public ListenerIr Ir { get; } = ir;

    /// <summary>Virtual hosts by hostname precedence.</summary>
    public HostMap<VirtualHostRoutes> VirtualHosts { get; } = virtualHosts;
}

/// <summary>The outcome of matching a request: the listener its host selected and the route, either possibly absent.</summary>
/// <param name="Listener">The listener selected by the request host, or null.</param>
/// <param name="Route">The matching route, or null.</param>
internal readonly record struct RouteMatch(ListenerRoutes? Listener, CompiledRoute? Route);

/// <summary>
/// The immutable route table of one port: the listeners sharing it, selected by hostname, each with virtual hosts
/// selected by hostname, each with routes in precedence order. A new snapshot builds a new table that replaces the old
/// one whole through one volatile reference; readers take no locks.
/// </summary>
internal sealed class RouteTable
{
    private readonly HostMap<ListenerRoutes> _listeners;

    private RouteTable(HostMap<ListenerRoutes> listeners, ListenerRoutes[] all)
    {
        _listeners = listeners;
        Listeners = all;
    }

    /// <summary>Every listener on the port, in IR order.</summary>
    public IReadOnlyList<ListenerRoutes> Listeners { get; }

    /// <summary>Compiles the listeners of one port.</summary>
    /// <param name="listeners">Listeners sharing a port, in IR order.</param>
    /// <param name="tls">Gives the TLS client of a backend under a BackendTLSPolicy, or null.</param>
    /// <returns>The table.</returns>
    public static RouteTable Build(IEnumerable<ListenerIr> listeners, Func<BackendTlsIr, BackendTlsClient>? tls = null)
    {
        var all = new List<ListenerRoutes>();
        foreach (var listener in listeners)
        {
            var vhosts = new List<(string?, VirtualHostRoutes)>();
            foreach (var vhost in listener.VirtualHosts.IsDefault ? [] : listener.VirtualHosts)
            {
                var routes = new List<CompiledRoute>();
                var order = 0;
                foreach (var route in vhost.Routes.IsDefault ? [] : vhost.Routes)
                {
                    routes.Add(new CompiledRoute(route, order++, tls));
                }

                // List.Sort is unstable, but the comparer ends on IR order, so the result is total and deterministic.
                routes.Sort(CompiledRoute.ComparePrecedence);
                vhosts.Add((vhost.Hostname, new VirtualHostRoutes(vhost, [.. routes])));
            }

            all.Add(new ListenerRoutes(listener, new HostMap<VirtualHostRoutes>(vhosts)));
        }

        return new RouteTable(new HostMap<ListenerRoutes>(all.Select(l => (l.Ir.Hostname, l))), [.. all]);
    }

    /// <summary>The listener a host (from SNI or the Host header) selects.</summary>
    public ListenerRoutes? FindListener(ReadOnlySpan<char> host) => _listeners.Find(host);

    /// <summary>Matches a request: listener by host, virtual host by host, then the first route (by precedence) that matches.</summary>
    /// <param name="request">The request.</param>
    /// <returns>The listener and route found.</returns>
    public RouteMatch Match(HttpRequest request)
    {
        var host = HostWithoutPort(request.Host.Value);
        var listener = _listeners.Find(host);
        if (listener is null)
        {
            return default;
        }

        var vhost = listener.VirtualHosts.Find(host);
        if (vhost is null)
        {
            return new RouteMatch(listener, null);
        }

        var method = request.Method;
        var path = request.Path.Value;
        if (string.IsNullOrEmpty(path))
        {
            path = "/";
        }

        foreach (var route in vhost.Routes)
        {
            if (route.Matches(method, path, request))
            {
                return new RouteMatch(listener, route);
            }
        }

        return new RouteMatch(listener, null);
    }

    /// <summary>The host part of a Host header or <c>:authority</c> (RFC 9110 §7.2), without the port, allocation-free.</summary>
    /// <param name="authority">For example <c>example.com:8443</c> or <c>[::1]:80</c>.</param>
    /// <returns>The host, for example <c>example.com</c> or <c>[::1]</c>.</returns>
    public static ReadOnlySpan<char> HostWithoutPort(ReadOnlySpan<char> authority)
    {
        if (authority.IsEmpty)
        {
            return authority;
        }

        if (authority[0] == '[')
        {
            var close = authority.IndexOf(']');
            return close < 0 ? authority : authority[..(close + 1)];
        }

        var colon = authority.LastIndexOf(':');
        return colon < 0 ? authority : authority[..colon];
    }
}
