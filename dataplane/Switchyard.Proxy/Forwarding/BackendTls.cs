using System.Formats.Asn1;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using Switchyard.Ir;

namespace Switchyard.Proxy.Forwarding;

/// <summary>Why a backend's certificate was refused.</summary>
internal enum BackendCertificateFailure
{
    /// <summary>The certificate is trusted and carries an expected name.</summary>
    None = 0,

    /// <summary>The backend sent no certificate.</summary>
    NoCertificate,

    /// <summary>No chain leads from the certificate to a trusted CA (or it is expired or malformed).</summary>
    UntrustedChain,

    /// <summary>The certificate carries neither the policy's hostname nor any of its subject alternative names.</summary>
    NameMismatch,
}

/// <summary>
/// The client for backends under one BackendTLSPolicy (and the Gateway's client certificate): its own pooled
/// <see cref="SocketsHttpHandler"/> whose connect step opens TLS itself. The handler cannot be told the SNI: for an
/// https URI it sends the request's Host header as server_name, and the policy requires its own hostname. So requests
/// go out as http URIs and <see cref="ConnectAsync"/> wraps each new connection in an <see cref="SslStream"/>; the
/// pool (one per client) never mixes connections of different TLS settings.
/// </summary>
internal sealed partial class BackendTlsClient : IDisposable
{
    private readonly BackendTlsIr _ir;
    private readonly X509Certificate2Collection _trust;
    private readonly SslStreamCertificateContext? _clientCertificate;
    private readonly X509Certificate2? _clientLeaf;
    private readonly ILogger _logger;

    private BackendTlsClient(BackendTlsIr ir, X509Certificate2Collection trust, X509Certificate2? clientLeaf, ILogger logger)
    {
        _ir = ir;
        _trust = trust;
        _clientLeaf = clientLeaf;
        _clientCertificate = clientLeaf is null ? null : SslStreamCertificateContext.Create(clientLeaf, null, offline: true);
        _logger = logger;
        var handler = HttpForwarder.CreateHandler();
        handler.ConnectCallback = ConnectAsync;
        Invoker = new HttpMessageInvoker(handler);
    }

    /// <summary>The policy's settings.</summary>
    public BackendTlsIr Ir => _ir;

    /// <summary>The client to send requests with (as <c>http://</c> URIs; TLS is below them).</summary>
    public HttpMessageInvoker Invoker { get; }

    /// <summary>Loads the CA bundle and the client certificate.</summary>
    /// <param name="ir">The policy's settings.</param>
    /// <param name="clientCertificate">The Gateway's backend client certificate, or null.</param>
    /// <param name="logger">Receives refused certificates.</param>
    /// <returns>The client.</returns>
    /// <exception cref="ArgumentException">The CA bundle or the client certificate does not parse.</exception>
    public static BackendTlsClient Create(BackendTlsIr ir, CertificateIr? clientCertificate, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(ir);
        var trust = new X509Certificate2Collection();
        X509Certificate2? leaf = null;
        try
        {
            if (!ir.SystemTrust)
            {
                trust.ImportFromPem(Encoding.ASCII.GetString(ir.CaCertificatesPem.AsSpan()));
                if (trust.Count == 0)
                {
                    throw new ArgumentException($"{ir.Name}: the CA bundle holds no certificate", nameof(ir));
                }
            }

            if (clientCertificate is not null)
            {
                leaf = X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(clientCertificate.CertificatePem.AsSpan()), Encoding.ASCII.GetString(clientCertificate.PrivateKeyPem.AsSpan()));
            }
        }
        catch (CryptographicException ex)
        {
            // The message names the source, never the key material.
            throw new ArgumentException($"{(leaf is null && clientCertificate is not null ? clientCertificate.Name : ir.Name)}: unusable PEM ({ex.Message})", nameof(ir), ex);
        }

        return new BackendTlsClient(ir, trust, leaf, logger);
    }

    /// <summary>
    /// Checks a backend's certificate against a policy: the chain must end at one of <paramref name="trust"/> (or the
    /// platform's roots under system trust), and the certificate must carry one of the policy's subject alternative
    /// names, or, when it lists none, its hostname as a DNS name (RFC 6125 §6.4, one leading wildcard label).
    /// </summary>
    /// <param name="leaf">The backend's certificate.</param>
    /// <param name="presented">The chain the backend sent (its intermediates are used), or null.</param>
    /// <param name="ir">The policy's settings.</param>
    /// <param name="trust">The CA certificates to trust (ignored under system trust).</param>
    /// <returns><see cref="BackendCertificateFailure.None"/>, or why the certificate is refused.</returns>
    internal static BackendCertificateFailure Check(X509Certificate2? leaf, X509Chain? presented, BackendTlsIr ir, X509Certificate2Collection trust)
    {
        if (leaf is null)
        {
            return BackendCertificateFailure.NoCertificate;
        }

        using (var chain = new X509Chain())
        {
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (!ir.SystemTrust)
            {
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(trust);
            }

            if (presented is not null)
            {
                foreach (var element in presented.ChainElements)
                {
                    if (!element.Certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
                    {
                        chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                    }
                }
            }

            if (!chain.Build(leaf))
            {
                return BackendCertificateFailure.UntrustedChain;
            }
        }

        var (dnsNames, uris) = ReadSubjectAltNames(leaf);
        if (ir.SubjectAltNames.IsDefaultOrEmpty)
        {
            return dnsNames.Exists(n => HostnameMatches(n, ir.Hostname)) ? BackendCertificateFailure.None : BackendCertificateFailure.NameMismatch;
        }

        foreach (var name in ir.SubjectAltNames)
        {
            var match = name.Type == SubjectAltNameType.Uri
                ? uris.Contains(name.Value, StringComparer.Ordinal)
                : dnsNames.Exists(n => HostnameMatches(n, name.Value));
            if (match)
            {
                return BackendCertificateFailure.None;
            }
        }

        return BackendCertificateFailure.NameMismatch;
    }

    /// <summary>Whether a certificate's DNS name (possibly <c>*.example.com</c>) covers <paramref name="hostname"/>.</summary>
    internal static bool HostnameMatches(string certificateName, string hostname)
    {
        var host = hostname.TrimEnd('.');
        var name = certificateName.TrimEnd('.');
        if (name.StartsWith("*.", StringComparison.Ordinal))
        {
            // RFC 6125 §6.4.3: the wildcard stands for exactly one whole label.
            var dot = host.IndexOf('.', StringComparison.Ordinal);
            return dot > 0 && string.Equals(host[dot..], name[1..], StringComparison.OrdinalIgnoreCase);
        }

        return string.Equals(name, host, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The dNSName and uniformResourceIdentifier entries of the subjectAltName extension (RFC 5280 §4.2.1.6). .NET
    /// enumerates DNS names and IP addresses but not URIs, so the GeneralNames are read here.
    /// </summary>
    internal static (List<string> DnsNames, List<string> Uris) ReadSubjectAltNames(X509Certificate2 certificate)
    {
        var dns = new List<string>();
        var uris = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != "2.5.29.17")
            {
                continue;
            }

            try
            {
                var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
                while (names.HasData)
                {
                    var tag = names.PeekTag();
                    if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue is 2 or 6)
                    {
                        var value = names.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, tag.TagValue));
                        (tag.TagValue == 2 ? dns : uris).Add(value);
                    }
                    else
                    {
                        names.ReadEncodedValue();
                    }
                }
            }
            catch (AsnContentException)
            {
                // A malformed extension names nothing; the certificate then matches no expected name.
                return ([], []);
            }
        }

        return (dns, uris);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Invoker.Dispose();
        _clientLeaf?.Dispose();
        foreach (var certificate in _trust)
        {
            certificate.Dispose();
        }
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = _ir.Hostname,
                ClientCertificateContext = _clientCertificate,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                ApplicationProtocols = [SslApplicationProtocol.Http11],
                RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
                {
                    var failure = Check(certificate as X509Certificate2, chain, _ir, _trust);
                    if (failure != BackendCertificateFailure.None)
                    {
                        Log.CertificateRefused(_logger, context.DnsEndPoint.ToString(), _ir.Name, failure);
                    }

                    return failure == BackendCertificateFailure.None;
                },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return tls;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "Backend {EndPoint} refused under {Policy}: {Failure}")]
        public static partial void CertificateRefused(ILogger logger, string endPoint, string policy, BackendCertificateFailure failure);
    }
}

/// <summary>
/// The <see cref="BackendTlsClient"/>s of a Gateway, kept across snapshots: an unchanged policy (and client
/// certificate) keeps its client and pooled connections. A client no longer used by the current snapshot is disposed
/// after a grace period, so requests that started on the old snapshot can finish.
/// </summary>
internal sealed class BackendTlsClients : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly TimeSpan _grace;
    private readonly Lock _gate = new();
    private Dictionary<(BackendTlsIr Tls, CertificateIr? Client), BackendTlsClient> _current = [];
    private Dictionary<(BackendTlsIr Tls, CertificateIr? Client), BackendTlsClient> _next = [];
    private readonly List<Task> _retiring = [];
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Creates an empty set.</summary>
    /// <param name="logger">Receives refused backend certificates.</param>
    /// <param name="grace">How long a client no longer used stays open.</param>
    public BackendTlsClients(ILogger logger, TimeSpan grace)
    {
        _logger = logger;
        _grace = grace;
    }

    /// <summary>The client for a policy during a compile: reused from the running snapshot when unchanged.</summary>
    /// <exception cref="ArgumentException">The policy's or the certificate's PEM is unusable.</exception>
    public BackendTlsClient Get(BackendTlsIr tls, CertificateIr? client)
    {
        lock (_gate)
        {
            var key = (tls, client);
            if (_next.TryGetValue(key, out var found) || _current.TryGetValue(key, out found))
            {
                _next[key] = found;
                return found;
            }

            found = BackendTlsClient.Create(tls, client, _logger);
            _next[key] = found;
            return found;
        }
    }

    /// <summary>The compile succeeded: what it used becomes current, and the rest is disposed after the grace period.</summary>
    public void Commit()
    {
        lock (_gate)
        {
            var unused = _current.Where(kv => !_next.ContainsKey(kv.Key)).Select(kv => kv.Value).ToList();
            _current = _next;
            _next = [];
            if (unused.Count > 0)
            {
                _retiring.RemoveAll(t => t.IsCompleted);
                _retiring.Add(RetireAsync(unused));
            }
        }
    }

    /// <summary>The compile failed: clients it created are disposed, the running ones stay.</summary>
    public void Abandon()
    {
        lock (_gate)
        {
            foreach (var (key, client) in _next)
            {
                if (!_current.ContainsKey(key))
                {
                    client.Dispose();
                }
            }

            _next = [];
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        List<Task> retiring;
        lock (_gate)
        {
            foreach (var client in _current.Values.Concat(_next.Values).Distinct())
            {
                client.Dispose();
            }

            _current = [];
            _next = [];
            retiring = [.. _retiring];
        }

        await Task.WhenAll(retiring).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task RetireAsync(List<BackendTlsClient> clients)
    {
        try
        {
            await Task.Delay(_grace, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Disposing: close now.
        }

        foreach (var client in clients)
        {
            client.Dispose();
        }
    }
}

/// <summary>Classifies a failed backend connection.</summary>
internal static class BackendTlsFailures
{
    /// <summary>True when <paramref name="ex"/> (or an inner exception) is a TLS handshake failure.</summary>
    public static bool IsTlsFailure(Exception ex)
    {
        for (var e = (Exception?)ex; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationException)
            {
                return true;
            }
        }

        return false;
    }
}
