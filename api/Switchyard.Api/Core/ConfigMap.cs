using Switchyard.Api.Meta;

namespace Switchyard.Api.Core;

/// <summary>A core/v1 ConfigMap: plain-text configuration data, such as a PEM CA certificate bundle.</summary>
public sealed class ConfigMap : KubernetesObject
{
    /// <summary>Creates an empty ConfigMap with its apiVersion and kind set.</summary>
    public ConfigMap()
    {
        ApiVersion = "v1";
        Kind = "ConfigMap";
    }

    /// <summary>UTF-8 data values by key.</summary>
    public IReadOnlyDictionary<string, string>? Data { get; set; }
}

/// <summary>Well-known ConfigMap keys.</summary>
public static class ConfigMapKeys
{
    /// <summary>The key holding a PEM CA certificate bundle (Gateway API caCertificateRefs, BackendTLSPolicy).</summary>
    public const string CaCertificate = "ca.crt";
}
