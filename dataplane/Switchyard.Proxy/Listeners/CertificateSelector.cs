using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Ir;
using Switchyard.Proxy.Matching;

namespace Switchyard.Proxy.Listeners;

/// <summary>A loaded certificate: leaf with its key, chain context to send, and the DNS names it covers.</summary>
internal sealed class LoadedCertificate
{
    private LoadedCertificate(X509Certificate2 leaf, SslStreamCertificateContext context, string[] dnsNames)
    {
        Leaf = leaf;
        Context = context;
        DnsNames = dnsNames;
    }

    /// <summary>The leaf certificate with its private key.</summary>
    public X509Certificate2 Leaf { get; }

    /// <summary>The context (leaf plus intermediates) handed to TLS.</summary>
    public SslStreamCertificateContext Context { get; }

    /// <summary>The subjectAltName DNS names, or the subject CN when there are none.</summary>
    public string[] DnsNames { get; }

    /// <summary>Loads PEM material: the first certificate is the leaf and the rest are intermediates sent with it.</summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The PEM does not hold a certificate and a matching key.</exception>
    public static LoadedCertificate FromPem(ReadOnlySpan<byte> certificatePem, ReadOnlySpan<byte> keyPem)
    {
        var certText = System.Text.Encoding.ASCII.GetString(certificatePem);
        var keyText = System.Text.Encoding.ASCII.GetString(keyPem);
        var leaf = X509Certificate2.CreateFromPem(certText, keyText);
        var all = new X509Certificate2Collection();
        all.ImportFromPem(certText);
        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < all.Count; i++)
        {
            intermediates.Add(all[i]);
        }

        return FromCertificate(leaf, intermediates);
    }

    /// <summary>Wraps a certificate that already has its private key.</summary>
    public static LoadedCertificate FromCertificate(X509Certificate2 leaf, X509Certificate2Collection? intermediates = null)
    {
        var context = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
        var names = new List<string>();
        foreach (var extension in leaf.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                names.AddRange(san.EnumerateDnsNames());
            }
        }

        if (names.Count == 0 && leaf.GetNameInfo(X509NameType.DnsName, forIssuer: false) is { Length: > 0 } cn)
        {
            names.Add(cn);
        }

        return new LoadedCertificate(leaf, context, [.. names]);
    }

    /// <summary>True when one of the certificate's names covers <paramref name="host"/> (a wildcard covers one label, RFC 6125 §6.4.3).</summary>
    public bool Covers(ReadOnlySpan<char> host)
    {
        foreach (var name in DnsNames)
        {
            if (name.StartsWith("*.", StringComparison.Ordinal))
            {
                var dot = host.IndexOf('.');
                if (dot > 0 && host[dot..].Equals(name.AsSpan(1), StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
            else if (host.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// Chooses the server certificate for a TLS handshake from the SNI server name (RFC 6066 §3): first the listener on
/// the port whose hostname best matches (Gateway API precedence), then among that listener's certificates the first
/// whose names cover the server name, else the listener's first. Immutable: a snapshot with new certificate bytes
/// builds a new selector, which new connections use at once.
/// </summary>
internal sealed class CertificateSelector
{
    private readonly HostMap<LoadedCertificate[]> _byListener;
    private readonly LoadedCertificate[] _default;

    private CertificateSelector(HostMap<LoadedCertificate[]> byListener, LoadedCertificate[] fallback)
    {
        _byListener = byListener;
        _default = fallback;
    }

    /// <summary>Builds a selector for the listeners of one port.</summary>
    /// <param name="listeners">The port's listeners, in IR order.</param>
    /// <param name="load">Loads (or returns a cached) certificate for an IR certificate.</param>
    /// <param name="dataPlaneCertificate">The certificate for listeners whose TLS is supplied by the data plane.</param>
    public static CertificateSelector Build(IEnumerable<ListenerIr> listeners, Func<CertificateIr, LoadedCertificate> load, Func<LoadedCertificate> dataPlaneCertificate)
    {
        var entries = new List<(string?, LoadedCertificate[])>();
        LoadedCertificate[]? first = null;
        LoadedCertificate[]? any = null;
        foreach (var listener in listeners)
        {
            if (listener.Tls is not { } tls)
            {
                continue;
            }

            LoadedCertificate[] certs = tls.Certificates.IsDefaultOrEmpty ? [dataPlaneCertificate()] : [.. tls.Certificates.Select(load)];
            entries.Add((listener.Hostname, certs));
            first ??= certs;
            if (listener.Hostname is null or "" or "*")
            {
                any ??= certs;
            }
        }

        return new CertificateSelector(new HostMap<LoadedCertificate[]>(entries), any ?? first ?? [dataPlaneCertificate()]);
    }

    /// <summary>Selects the certificate for <paramref name="serverName"/> (null or empty when the client sent no SNI).</summary>
    public LoadedCertificate Select(string? serverName)
    {
        var candidates = string.IsNullOrEmpty(serverName) ? _default : _byListener.Find(serverName) ?? _default;
        if (!string.IsNullOrEmpty(serverName))
        {
            foreach (var candidate in candidates)
            {
                if (candidate.Covers(serverName))
                {
                    return candidate;
                }
            }
        }

        return candidates[0];
    }
}
