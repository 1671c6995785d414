using System.Net.Security;
using System.Runtime.Versioning;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Transport;
using Net = System.Net.Quic;

namespace Switchyard.Quic.SystemNetQuic;

/// <summary>
/// Every call into <c>System.Net.Quic</c> that builds listeners and connections, behind the platform guard of
/// <see cref="SystemNetQuicTransport"/>. Untested here (no libmsquic).
/// </summary>
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("windows")]
[SupportedOSPlatform("macos")]
internal static class MsQuic
{
    public static async ValueTask<IQuicListener> ListenAsync(QuicServerOptions options, CancellationToken cancellationToken)
    {
        var protocols = SystemNetQuicTransport.Protocols(options.ApplicationProtocols);
        var certificateContext = SslStreamCertificateContext.Create(options.ServerCertificate, new X509Certificate2Collection(options.CertificateChain.ToArray()), offline: true);
        var listenerOptions = new Net.QuicListenerOptions
        {
            ListenEndPoint = options.ListenEndPoint,
            ApplicationProtocols = protocols,
            ListenBacklog = options.ListenBacklog,
            ConnectionOptionsCallback = (_, hello, _) =>
            {
                var authentication = new SslServerAuthenticationOptions { ApplicationProtocols = protocols };
                if (options.ServerCertificateSelector?.Invoke(hello.ServerName) is { } selected)
                {
                    authentication.ServerCertificate = selected;
                }
                else
                {
                    authentication.ServerCertificateContext = certificateContext;
                }

                var connectionOptions = new Net.QuicServerConnectionOptions { ServerAuthenticationOptions = authentication };
                Apply(options, connectionOptions);
                return ValueTask.FromResult(connectionOptions);
            },
        };
        try
        {
            return new SystemNetQuicListener(await Net.QuicListener.ListenAsync(listenerOptions, cancellationToken).ConfigureAwait(false));
        }
        catch (Net.QuicException error)
        {
            throw QuicErrors.Map(error);
        }
    }

    public static async ValueTask<IQuicConnection> ConnectAsync(QuicClientOptions options, SslClientAuthenticationOptions authentication, CancellationToken cancellationToken)
    {
        var connectionOptions = new Net.QuicClientConnectionOptions
        {
            RemoteEndPoint = options.RemoteEndPoint,
            LocalEndPoint = options.LocalEndPoint,
            ClientAuthenticationOptions = authentication,
        };
        Apply(options, connectionOptions);
        try
        {
            return new SystemNetQuicConnection(await Net.QuicConnection.ConnectAsync(connectionOptions, cancellationToken).ConfigureAwait(false));
        }
        catch (Net.QuicException error)
        {
            throw QuicErrors.Map(error);
        }
    }

    /// <summary>The options both ends share; the application error codes are HTTP/3's (RFC 9114 §8.1).</summary>
    private static void Apply(QuicConnectionOptions from, Net.QuicConnectionOptions to)
    {
        to.DefaultStreamErrorCode = SystemNetQuicTransport.DefaultStreamErrorCode;
        to.DefaultCloseErrorCode = SystemNetQuicTransport.DefaultCloseErrorCode;
        to.IdleTimeout = from.IdleTimeout;
        to.MaxInboundBidirectionalStreams = from.MaxInboundBidirectionalStreams;
        to.MaxInboundUnidirectionalStreams = from.MaxInboundUnidirectionalStreams;
        to.InitialReceiveWindowSizes = new Net.QuicReceiveWindowSizes
        {
            Connection = from.ConnectionReceiveWindow,
            LocallyInitiatedBidirectionalStream = from.StreamReceiveWindow,
            RemotelyInitiatedBidirectionalStream = from.StreamReceiveWindow,
            UnidirectionalStream = from.StreamReceiveWindow,
        };
    }
}
