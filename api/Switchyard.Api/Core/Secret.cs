using Switchyard.Api.Meta;

namespace Switchyard.Api.Core;

/// <summary>A core/v1 Secret. <see cref="ToString"/> never prints its data.</summary>
public sealed class Secret : KubernetesObject
{
    /// <summary>Secret type, for example <c>kubernetes.io/tls</c>.</summary>
    public string? Type { get; set; }

    /// <summary>Data values (base64 in JSON, raw bytes here).</summary>
    public Dictionary<string, byte[]>? Data { get; set; }

    /// <summary>Write-only convenience field of plain strings, merged into data by the server.</summary>
    public Dictionary<string, string>? StringData { get; set; }

    /// <summary>Whether the data may not change.</summary>
    public bool? Immutable { get; set; }

    /// <summary>Returns the value of a key from <see cref="Data"/> or <see cref="StringData"/>.</summary>
    /// <param name="key">Data key, for example <c>tls.crt</c>.</param>
    /// <returns>The bytes, or null.</returns>
    public byte[]? Get(string key)
    {
        if (Data is not null && Data.TryGetValue(key, out var bytes))
        {
            return bytes;
        }

        return StringData is not null && StringData.TryGetValue(key, out var text) ? System.Text.Encoding.UTF8.GetBytes(text) : null;
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var keys = (Data?.Keys ?? Enumerable.Empty<string>()).Concat(StringData?.Keys ?? Enumerable.Empty<string>()).Order(StringComparer.Ordinal);
        return $"Secret {Metadata.Namespace}/{Metadata.Name} type={Type} keys=[{string.Join(",", keys)}] (values redacted)";
    }
}

/// <summary>Well-known Secret keys.</summary>
public static class SecretKeys
{
    /// <summary>Type of TLS Secrets.</summary>
    public const string TlsType = "kubernetes.io/tls";

    /// <summary>PEM certificate chain key.</summary>
    public const string TlsCert = "tls.crt";

    /// <summary>PEM private key key.</summary>
    public const string TlsKey = "tls.key";
}
