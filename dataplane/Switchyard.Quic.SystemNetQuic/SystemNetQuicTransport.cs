using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Transport;
using Net = System.Net.Quic;

namespace Switchyard.Quic.SystemNetQuic;

/// <summary>
/// The <see cref="IQuicTransport"/> seam over <c>System.Net.Quic</c> (msquic), for machines where
/// <c>QuicListener.IsSupported</c> is true. It is a thin translation of options, calls and errors; the QUIC protocol
/// itself is msquic's.
/// </summary>
/// <remarks>
/// <para><b>Untested.</b> libmsquic cannot be installed where this repository is built, so no connection has ever
/// been made through this adapter here. The tests cover only what runs without msquic: <see cref="IsSupported"/>,
/// <see cref="SupportsDatagrams"/>, the refusal of unsupported options and <see cref="QuicTransportSelector"/>.</para>
/// <para>What <c>System.Net.Quic</c> cannot do, and how the adapter says so:</para>
/// <list type="bullet">
/// <item>QUIC DATAGRAM frames (RFC 9221): <see cref="SupportsDatagrams"/> is false, connections report
/// <see cref="IQuicConnection.MaxDatagramPayloadSize"/> 0, and sending or receiving a datagram throws
/// <see cref="NotSupportedException"/>. WebTransport datagrams need the managed stack.</item>
/// <item>Forcing a Retry (<see cref="QuicServerOptions.RequireRetry"/>): msquic decides on Retry itself;
/// <see cref="ListenAsync"/> throws <see cref="NotSupportedException"/> when it is asked for.</item>
/// <item>Key logging (<see cref="QuicConnectionOptions.KeyLogFile"/>): not exposed by <c>System.Net.Quic</c>;
/// ignored.</item>
/// <item>Starting a key update: connections do not implement <see cref="IQuicKeyUpdateInitiator"/>.</item>
/// <item>Statistics: <c>System.Net.Quic</c> publishes none per connection, so
/// <see cref="IQuicConnection.GetStatistics"/> returns zeros.</item>
/// </list>
/// </remarks>
public sealed class SystemNetQuicTransport : IQuicTransport
{
    /// <summary>
    /// The application error code sent when a stream is dropped without an explicit abort, and when the connection is
    /// disposed without <see cref="IQuicConnection.CloseAsync"/>. The data plane speaks HTTP/3, so these are
    /// H3_REQUEST_CANCELLED (0x10c) and H3_NO_ERROR (0x100) from RFC 9114 §8.1.
    /// </summary>
    internal const long DefaultStreamErrorCode = 0x10c;

    /// <inheritdoc cref="DefaultStreamErrorCode"/>
    internal const long DefaultCloseErrorCode = 0x100;

    /// <summary>A shared instance; the transport holds no state.</summary>
    public static SystemNetQuicTransport Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "msquic";

    /// <summary>True when libmsquic is installed and usable: both <c>QuicListener.IsSupported</c> and <c>QuicConnection.IsSupported</c>.</summary>
    public bool IsSupported
    {
        get
        {
            if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows() || OperatingSystem.IsMacOS())
            {
                return Net.QuicListener.IsSupported && Net.QuicConnection.IsSupported;
            }

            return false;
        }
    }

    /// <summary>Always false: <c>System.Net.Quic</c> has no QUIC DATAGRAM frames (RFC 9221).</summary>
    public bool SupportsDatagrams => false;

    /// <inheritdoc />
    /// <exception cref="PlatformNotSupportedException">libmsquic is not available (<see cref="IsSupported"/> is false).</exception>
    /// <exception cref="NotSupportedException"><see cref="QuicServerOptions.RequireRetry"/> was set.</exception>
    public ValueTask<IQuicListener> ListenAsync(QuicServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ApplicationProtocols.Count == 0)
        {
            throw new ArgumentException("At least one ALPN protocol is required (RFC 9001 §8.1).", nameof(options));
        }

        if (options.RequireRetry)
        {
            throw new NotSupportedException("System.Net.Quic cannot be told to send a Retry to every client (RFC 9000 §8.1.2); msquic decides on Retry itself. Use the managed transport for RequireRetry.");
        }

        if ((OperatingSystem.IsLinux() || OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()) && IsSupported)
        {
            return MsQuic.ListenAsync(options, cancellationToken);
        }

        throw Unsupported();
    }

    /// <inheritdoc />
    /// <exception cref="PlatformNotSupportedException">libmsquic is not available (<see cref="IsSupported"/> is false).</exception>
    public ValueTask<IQuicConnection> ConnectAsync(QuicClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.PinnedCertificateSha256 is { Length: not 32 })
        {
            throw new ArgumentException("PinnedCertificateSha256 must be 32 bytes.", nameof(options));
        }

        if ((OperatingSystem.IsLinux() || OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()) && IsSupported)
        {
            var authentication = new SslClientAuthenticationOptions
            {
                TargetHost = options.TargetHostName ?? (options.RemoteEndPoint as DnsEndPoint)?.Host,
                ApplicationProtocols = Protocols(options.ApplicationProtocols),
            };
            ConfigureServerValidation(options, authentication);
            return MsQuic.ConnectAsync(options, authentication, cancellationToken);
        }

        throw Unsupported();
    }

    /// <summary>
    /// The same order of trust as the managed client (<c>TlsClientConfig</c>): skip, else the pinned SHA-256 of the leaf,
    /// else the chain to <see cref="QuicClientOptions.TrustedRoot"/> (or the system roots) plus the host name, which
    /// <c>SslStream</c> checks itself.
    /// </summary>
    internal static void ConfigureServerValidation(QuicClientOptions options, SslClientAuthenticationOptions authentication)
    {
        if (options.SkipCertificateValidation)
        {
            authentication.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
            return;
        }

        if (options.PinnedCertificateSha256 is { } pin)
        {
            authentication.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is null)
                {
                    return false;
                }

                Span<byte> actual = stackalloc byte[32];
                SHA256.HashData(certificate.GetRawCertData(), actual);
                return CryptographicOperations.FixedTimeEquals(actual, pin);
            };
            return;
        }

        if (options.TrustedRoot is { } root)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.Add(root);
            authentication.CertificateChainPolicy = policy;
        }
    }

    internal static List<SslApplicationProtocol> Protocols(IEnumerable<string> names) =>
        names.Select(n => new SslApplicationProtocol(n)).ToList();

    private static PlatformNotSupportedException Unsupported() =>
        new("System.Net.Quic is not supported here: libmsquic is not installed (QuicListener.IsSupported is false). Use the managed transport; QuicTransportSelector picks it.");
}
