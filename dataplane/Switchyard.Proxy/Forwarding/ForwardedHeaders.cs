using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Switchyard.Proxy.Forwarding;

/// <summary>
/// Adds the de-facto <c>X-Forwarded-For/-Proto/-Host/-Port</c> headers and the standard <c>Forwarded</c> header
/// (RFC 7239) to a backend request. For and Forwarded append this hop to what earlier proxies wrote; Proto, Host and
/// Port describe this gateway's client-facing side and are overwritten, since a client could forge them.
/// </summary>
internal static class ForwardedHeaders
{
    /// <summary>Adds the headers to <paramref name="outgoing"/>.</summary>
    /// <param name="context">The client request.</param>
    /// <param name="outgoing">The backend request, with the client's headers already copied.</param>
    /// <param name="listenerPort">The Gateway listener port the client connected to.</param>
    public static void Apply(HttpContext context, HttpRequestMessage outgoing, int listenerPort)
    {
        var request = context.Request;
        var remote = context.Connection.RemoteIpAddress;
        if (remote is { IsIPv4MappedToIPv6: true })
        {
            remote = remote.MapToIPv4();
        }

        var remoteText = remote?.ToString();
        var headers = outgoing.Headers;

        var xff = request.Headers["X-Forwarded-For"].ToString();
        headers.Remove("X-Forwarded-For");
        if (remoteText is not null)
        {
            headers.TryAddWithoutValidation("X-Forwarded-For", xff.Length == 0 ? remoteText : xff + ", " + remoteText);
        }
        else if (xff.Length != 0)
        {
            headers.TryAddWithoutValidation("X-Forwarded-For", xff);
        }

        headers.Remove("X-Forwarded-Proto");
        headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
        headers.Remove("X-Forwarded-Host");
        if (request.Host.HasValue)
        {
            headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);
        }

        headers.Remove("X-Forwarded-Port");
        headers.TryAddWithoutValidation("X-Forwarded-Port", listenerPort.ToString(CultureInfo.InvariantCulture));

        // RFC 7239 §4: forwarded-element = pairs joined by ';', elements of successive hops joined by ','.
        var element = new StringBuilder();
        element.Append("for=").Append(NodeValue(remote));
        if (request.Host.HasValue)
        {
            element.Append(";host=").Append(Value(request.Host.Value));
        }

        element.Append(";proto=").Append(request.Scheme);
        var forwarded = request.Headers["Forwarded"].ToString();
        headers.Remove("Forwarded");
        headers.TryAddWithoutValidation("Forwarded", forwarded.Length == 0 ? element.ToString() : forwarded + ", " + element);
    }

    /// <summary>RFC 7239 §6: an IPv6 node is bracketed and quoted; an unknown one is <c>unknown</c>.</summary>
    internal static string NodeValue(IPAddress? address) => address switch
    {
        null => "unknown",
        { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } => "\"[" + address + "]\"",
        _ => address.ToString(),
    };

    /// <summary>A value is a token or, when it holds other characters (such as the ':' of a port), a quoted-string (RFC 7239 §4).</summary>
    internal static string Value(string value)
    {
        foreach (var c in value)
        {
            if (!IsTokenChar(c))
            {
                return "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
            }
        }

        return value;
    }

    // RFC 9110 §5.6.2 tchar.
    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
}
