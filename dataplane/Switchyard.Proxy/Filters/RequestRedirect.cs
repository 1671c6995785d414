using System.Globalization;
using Microsoft.AspNetCore.Http;
using Switchyard.Ir;
using Switchyard.Proxy.Matching;

namespace Switchyard.Proxy.Filters;

/// <summary>The Gateway API RequestRedirect filter: the <c>Location</c> a redirect answers with.</summary>
internal static class RequestRedirect
{
    /// <summary>
    /// Builds the Location. The scheme and hostname default to the request's. The port, when not given, is the
    /// well-known port of a redirect scheme that was given (http 80, https 443), otherwise the listener's port; the
    /// port is left out when it is the scheme's default. The query string is kept.
    /// </summary>
    /// <param name="redirect">The filter.</param>
    /// <param name="route">The matched route (for ReplacePrefixMatch).</param>
    /// <param name="request">The request.</param>
    /// <param name="listenerPort">The Gateway listener port the request came in on.</param>
    /// <returns>The absolute URL.</returns>
    public static string Location(RedirectIr redirect, CompiledRoute route, HttpRequest request, int listenerPort)
    {
        var scheme = redirect.Scheme ?? request.Scheme;
        var host = redirect.Hostname ?? RouteTable.HostWithoutPort(request.Host.Value).ToString();
        int port;
        if (redirect.Port is { } p)
        {
            port = p;
        }
        else if (redirect.Scheme is not null)
        {
            port = WellKnownPort(redirect.Scheme) ?? listenerPort;
        }
        else
        {
            port = listenerPort;
        }

        var authority = WellKnownPort(scheme) == port ? host : host + ":" + port.ToString(CultureInfo.InvariantCulture);
        var path = request.Path.HasValue ? request.Path.Value! : "/";
        if (redirect.Path is { } modifier)
        {
            path = PathModifiers.Apply(modifier, route, path);
        }

        return PathModifiers.Url(scheme, authority, PathModifiers.Encode(path), request.QueryString.Value ?? string.Empty);
    }

    private static int? WellKnownPort(string scheme) =>
        string.Equals(scheme, "http", StringComparison.OrdinalIgnoreCase) ? 80
        : string.Equals(scheme, "https", StringComparison.OrdinalIgnoreCase) ? 443
        : null;
}
