using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Switchyard.Conformance;

/// <summary>
/// The frontend client-certificate material the suite generates at setup, as upstream's suite does: a CA whose
/// certificate is a ConfigMap (<c>ca.crt</c>, what Gateways' <c>spec.tls.frontend</c> refers to) and a client
/// certificate it signed, as a <c>kubernetes.io/tls</c> Secret the tests read back and present.
/// </summary>
internal static class ClientCertificates
{
    /// <summary>The ConfigMap with the CA certificate and the Secret with a client certificate the CA signed.</summary>
    /// <param name="ns">Namespace of both.</param>
    /// <param name="caConfigMap">Name of the CA ConfigMap.</param>
    /// <param name="clientSecret">Name of the client certificate Secret.</param>
    /// <param name="commonName">Common name of the CA (the client's is derived from it).</param>
    public static (JsonObject CaConfigMap, JsonObject ClientSecret) Create(string ns, string caConfigMap, string clientSecret, string commonName)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest($"CN={commonName} CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(30));

        using var clientKey = RSA.Create(2048);
        var clientRequest = new CertificateRequest($"CN={commonName} client", clientKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        clientRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        clientRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        clientRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        using var client = clientRequest.Create(ca, now.AddMinutes(-5), now.AddDays(29), RandomNumberGenerator.GetBytes(16));

        var configMap = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = caConfigMap, ["namespace"] = ns },
            ["data"] = new JsonObject { ["ca.crt"] = ca.ExportCertificatePem() },
        };
        var secret = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = clientSecret, ["namespace"] = ns },
            ["type"] = "kubernetes.io/tls",
            ["data"] = new JsonObject
            {
                ["tls.crt"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(client.ExportCertificatePem())),
                ["tls.key"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(clientKey.ExportPkcs8PrivateKeyPem())),
            },
        };
        return (configMap, secret);
    }

    /// <summary>Upstream's <c>GetTLSSecret</c>: the certificate (with its key, when the Secret has one) of a TLS Secret.</summary>
    /// <param name="secret">The Secret as the API returned it.</param>
    /// <exception cref="ConformanceException">The Secret has no parsable <c>tls.crt</c>.</exception>
    public static X509Certificate2 FromSecret(JsonObject secret)
    {
        var data = secret["data"] as JsonObject ?? throw new ConformanceException("the Secret has no data");
        var crt = data["tls.crt"]?.GetValue<string>() ?? throw new ConformanceException("the Secret has no tls.crt");
        var certificatePem = Encoding.ASCII.GetString(Convert.FromBase64String(crt));
        if (data["tls.key"]?.GetValue<string>() is not { } key)
        {
            return X509Certificate2.CreateFromPem(certificatePem);
        }

        using var withKey = X509Certificate2.CreateFromPem(certificatePem, Encoding.ASCII.GetString(Convert.FromBase64String(key)));

        // A PKCS#12 round trip gives a key the TLS stack can sign the client's CertificateVerify with on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
