using Switchyard.Api.Meta;

namespace Switchyard.Api.Core;

/// <summary>A core/v1 ConfigMap; Switchyard reads CA certificate bundles from it.</summary>
public sealed class ConfigMap : KubernetesObject
{
    /// <summary>Creates an empty ConfigMap with its API version and kind set.</summary>
    public ConfigMap()
    {
        ApiVersion = "v1";
        Kind = "ConfigMap";
    }

    /// <summary>String data by key.</summary>
    public IReadOnlyDictionary<string, string>? Data { get; set; }
}

/// <summary>Well-known ConfigMap keys.</summary>
public static class ConfigMapKeys
{
    /// <summary>The PEM CA certificate bundle (Gateway API BackendTLSPolicy and frontend validation).</summary>
    public const string CaCertificate = "ca.crt";
}
