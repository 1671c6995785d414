using Switchyard.Http3.Connection;

namespace Switchyard.WebTransport.Sessions;

/// <summary>The HTTP/3 settings and hooks WebTransport needs, on either side.</summary>
internal static class WebTransportConfiguration
{
    public static Http3ConnectionOptions Configure(Http3ConnectionOptions? http3Options, WebTransportOptions options)
    {
        Http3ConnectionOptions result = (http3Options ?? new Http3ConnectionOptions()).Clone();
        result.EnableExtendedConnect = true;  // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 9220)
        result.EnableDatagrams = true;        // SETTINGS_H3_DATAGRAM = 1 (RFC 9297)
        result.AdditionalSettings[WebTransportProtocol.SettingEnableWebTransport] = 1;
        result.Extensions.Add(connection => new WebTransportConnection(connection, options));
        return result;
    }
}
