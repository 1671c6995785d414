using System.Net;

namespace Switchyard.Conformance;

/// <summary>
/// A Gateway address the suite puts in place of upstream's <c>PLACEHOLDER_USABLE_ADDRS</c> /
/// <c>PLACEHOLDER_UNUSABLE_ADDRS</c> (upstream's <c>UsableNetworkAddresses</c> / <c>UnusableNetworkAddresses</c>).
/// </summary>
/// <param name="Type">The address type, for example <c>IPAddress</c>.</param>
/// <param name="Value">The address.</param>
public sealed record NetworkAddress(string Type, string Value)
{
    /// <summary>The in-process default usable address: in 127.0.0.0/8, which Linux lets any process bind.</summary>
    public static NetworkAddress DefaultUsable { get; } = new("IPAddress", "127.0.0.2");

    /// <summary>The default unusable address: TEST-NET-3 (RFC 5737), which no load balancer pool should hold.</summary>
    public static NetworkAddress DefaultUnusable { get; } = new("IPAddress", "203.0.113.1");

    /// <summary>Parses <c>[TYPE=]VALUE</c>; without a type, an IP address is an <c>IPAddress</c>, anything else a <c>Hostname</c>.</summary>
    /// <exception cref="FormatException">The text is empty, or an <c>IPAddress</c> value is not an IP address.</exception>
    public static NetworkAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        var equals = trimmed.IndexOf('=', StringComparison.Ordinal);
        var type = equals > 0 ? trimmed[..equals] : null;
        var value = equals > 0 ? trimmed[(equals + 1)..] : trimmed;
        if (value.Length == 0)
        {
            throw new FormatException($"'{text}' is not [TYPE=]VALUE (for example IPAddress=127.0.0.2)");
        }

        var isIp = IPAddress.TryParse(value, out _) && (value.Contains('.', StringComparison.Ordinal) || value.Contains(':', StringComparison.Ordinal));
        type ??= isIp ? "IPAddress" : "Hostname";
        if (type == "IPAddress" && !isIp)
        {
            throw new FormatException($"'{value}' is not an IP address");
        }

        return new NetworkAddress(type, value);
    }
}
