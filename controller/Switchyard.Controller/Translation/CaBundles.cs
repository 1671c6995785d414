using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Switchyard.Api.Core;

namespace Switchyard.Controller.Translation;

/// <summary>
/// CA certificate bundles from ConfigMaps (<c>ca.crt</c>), as BackendTLSPolicy and the Gateway's frontend
/// client-certificate validation both reference them: one reading, so both accept and refuse the same bundles.
/// </summary>
internal static class CaBundles
{
    /// <summary>The PEM certificates of a ConfigMap's <c>ca.crt</c>, normalized; null when there is none or one does not parse.</summary>
    public static byte[]? Read(ConfigMap configMap)
    {
        if (configMap.Data is null || !configMap.Data.TryGetValue(ConfigMapKeys.CaCertificate, out var text) || string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(text);
        }
        catch (CryptographicException)
        {
            return null;
        }

        try
        {
            if (certificates.Count == 0)
            {
                return null;
            }

            // Re-exported so that only certificates (no stray text or keys) reach the data plane.
            return Encoding.ASCII.GetBytes(string.Concat(certificates.Select(c => c.ExportCertificatePem() + "\n")));
        }
        finally
        {
            foreach (var c in certificates)
            {
                c.Dispose();
            }
        }
    }
}
