using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Transport;

namespace Switchyard.Quic.SystemNetQuic.Tests;

/// <summary>
/// What can be checked without libmsquic: the capability flags, the transport choice, and the options the adapter
/// refuses or translates before it ever calls into <c>System.Net.Quic</c>. No connection is made.
/// </summary>
public class SystemNetQuicTransportTests
{
    private sealed class FakeTransport(string name, bool supported, bool datagrams) : IQuicTransport
    {
        public string Name => name;

        public bool IsSupported => supported;

        public bool SupportsDatagrams => datagrams;

        public ValueTask<IQuicListener> ListenAsync(QuicServerOptions options, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<IQuicConnection> ConnectAsync(QuicClientOptions options, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }

    private static X509Certificate2 NewCertificate(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    [Theory]
    [InlineData(false, false, false, "managed")] // msquic missing: the managed stack
    [InlineData(false, false, true, "managed")] // msquic missing, datagrams wanted: the managed stack
    [InlineData(true, false, false, "msquic")] // msquic present, no datagrams needed: msquic
    [InlineData(true, false, true, "managed")] // msquic present but datagrams needed: only the managed stack has them
    [InlineData(true, true, true, "msquic")] // a preferred transport that had datagrams would be kept
    public void Select_PrefersSupportedTransportUnlessDatagramsAreMissing(bool supported, bool datagrams, bool requireDatagrams, string expected)
    {
        var chosen = QuicTransportSelector.Select(new FakeTransport("msquic", supported, datagrams), new FakeTransport("managed", true, true), requireDatagrams);
        Assert.Equal(expected, chosen.Name);
    }

    [Fact]
    public void Adapter_SaysItHasNoDatagrams_SoSelectionForDatagramsAlwaysFallsBack()
    {
        var adapter = SystemNetQuicTransport.Instance;
        var managed = new FakeTransport("managed", true, true);
        Assert.Equal("msquic", adapter.Name);
        Assert.False(adapter.SupportsDatagrams);
        Assert.Same(managed, QuicTransportSelector.Select(adapter, managed, requireDatagrams: true));
        Assert.Same(adapter.IsSupported ? adapter : managed, QuicTransportSelector.Select(adapter, managed, requireDatagrams: false));
    }

    [Fact]
    public async Task RequireRetry_IsRefusedWithAReason()
    {
        using var certificate = NewCertificate("localhost");
        var options = new QuicServerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ServerCertificate = certificate,
            ApplicationProtocols = ["h3"],
            RequireRetry = true,
        };
        var error = await Assert.ThrowsAsync<NotSupportedException>(async () => await SystemNetQuicTransport.Instance.ListenAsync(options));
        Assert.Contains("Retry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoApplicationProtocol_IsRejected()
    {
        using var certificate = NewCertificate("localhost");
        var options = new QuicServerOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), ServerCertificate = certificate };
        await Assert.ThrowsAsync<ArgumentException>(async () => await SystemNetQuicTransport.Instance.ListenAsync(options));
    }

    [Fact]
    public async Task PinOfWrongLength_IsRejected()
    {
        var options = new QuicClientOptions { RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, 9), ApplicationProtocols = ["h3"], PinnedCertificateSha256 = new byte[31] };
        await Assert.ThrowsAsync<ArgumentException>(async () => await SystemNetQuicTransport.Instance.ConnectAsync(options));
    }

    [Fact]
    public void PinnedCertificate_AcceptsOnlyTheCertificateWithThatSha256()
    {
        using var pinned = NewCertificate("pinned");
        using var other = NewCertificate("other");
        var options = new QuicClientOptions { RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, 9), PinnedCertificateSha256 = SHA256.HashData(pinned.RawData) };
        var authentication = new SslClientAuthenticationOptions();
        SystemNetQuicTransport.ConfigureServerValidation(options, authentication);
        var callback = authentication.RemoteCertificateValidationCallback!;
        Assert.True(callback(this, pinned, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(callback(this, other, null, SslPolicyErrors.None));
        Assert.False(callback(this, null, null, SslPolicyErrors.RemoteCertificateNotAvailable));
    }

    [Fact]
    public void TrustedRoot_BecomesACustomRootChainPolicyAndNameChecksStayWithSslStream()
    {
        using var root = NewCertificate("root");
        var options = new QuicClientOptions { RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, 9), TrustedRoot = root };
        var authentication = new SslClientAuthenticationOptions();
        SystemNetQuicTransport.ConfigureServerValidation(options, authentication);
        Assert.Null(authentication.RemoteCertificateValidationCallback);
        var policy = authentication.CertificateChainPolicy!;
        Assert.Equal(X509ChainTrustMode.CustomRootTrust, policy.TrustMode);
        Assert.Equal(root.Thumbprint, Assert.Single(policy.CustomTrustStore).Thumbprint);
    }

    [Fact]
    public void SkipValidation_AcceptsAnything_AndDefaultsUseTheSystemRoots()
    {
        var skip = new SslClientAuthenticationOptions();
        SystemNetQuicTransport.ConfigureServerValidation(new QuicClientOptions { RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, 9), SkipCertificateValidation = true }, skip);
        Assert.True(skip.RemoteCertificateValidationCallback!(this, null, null, SslPolicyErrors.RemoteCertificateChainErrors));

        var defaults = new SslClientAuthenticationOptions();
        SystemNetQuicTransport.ConfigureServerValidation(new QuicClientOptions { RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, 9) }, defaults);
        Assert.Null(defaults.RemoteCertificateValidationCallback);
        Assert.Null(defaults.CertificateChainPolicy);
    }
}
