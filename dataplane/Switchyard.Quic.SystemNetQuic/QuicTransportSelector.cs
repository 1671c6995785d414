using Switchyard.Transport;

namespace Switchyard.Quic.SystemNetQuic;

/// <summary>Chooses the QUIC transport the data plane runs on (DESIGN.md, "QUIC transport").</summary>
public static class QuicTransportSelector
{
    /// <summary>
    /// Returns <paramref name="preferred"/> when it can run here and offers what is needed, else
    /// <paramref name="fallback"/>. With <see cref="SystemNetQuicTransport"/> as the preferred one, the data plane uses
    /// msquic where <c>QuicListener.IsSupported</c> is true, and the managed stack elsewhere or whenever QUIC datagrams
    /// (WebTransport datagrams, RFC 9221) are required, since <c>System.Net.Quic</c> has none.
    /// </summary>
    /// <param name="preferred">The transport to use when possible, usually <see cref="SystemNetQuicTransport.Instance"/>.</param>
    /// <param name="fallback">The transport that always works here, usually the managed stack.</param>
    /// <param name="requireDatagrams">True when the caller needs QUIC DATAGRAM frames.</param>
    /// <returns>The chosen transport.</returns>
    public static IQuicTransport Select(IQuicTransport preferred, IQuicTransport fallback, bool requireDatagrams)
    {
        ArgumentNullException.ThrowIfNull(preferred);
        ArgumentNullException.ThrowIfNull(fallback);
        return preferred.IsSupported && (!requireDatagrams || preferred.SupportsDatagrams) ? preferred : fallback;
    }
}
