using System.CommandLine;
using System.Globalization;
using System.Net;

namespace Switchyard.Cli.Hosting;

/// <summary>
/// Where a Gateway's listener ports bind on this machine: every port on <see cref="Address"/> under its own number,
/// unless <see cref="Overrides"/> remaps it (a privileged port such as 443 on a developer machine, or port 0 for an
/// ephemeral one in tests). HTTPS ports bind TCP and UDP alike.
/// </summary>
internal sealed class DataPlaneBindings
{
    /// <summary>The address listener ports bind on; loopback by default (development).</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>Listener port → socket, from <c>--bind PORT=ADDRESS:PORT</c>.</summary>
    public IReadOnlyDictionary<int, IPEndPoint> Overrides { get; init; } = new Dictionary<int, IPEndPoint>();

    /// <summary>The socket for a listener port.</summary>
    public IPEndPoint EndPointFor(int port) => Overrides.TryGetValue(port, out var endPoint) ? endPoint : new IPEndPoint(Address, port);

    /// <summary>The <c>--address</c> option (or its prefixed form).</summary>
    public static Option<IPAddress> AddressOption(string name, string defaultValue = "127.0.0.1") => new(name)
    {
        Description = $"Address the Gateway listener ports bind on, TCP and (for HTTPS) UDP (default {defaultValue}; 0.0.0.0 or :: for every interface).",
        DefaultValueFactory = _ => IPAddress.Parse(defaultValue),
        CustomParser = result => IPAddress.TryParse(result.Tokens.Single().Value, out var address)
            ? address
            : throw new FormatException($"'{result.Tokens.Single().Value}' is not an IP address."),
    };

    /// <summary>The repeatable <c>--bind LISTENERPORT=ADDRESS:PORT</c> option.</summary>
    public static Option<string[]> BindOption(string name) => new(name)
    {
        Description = "Bind one Gateway listener port elsewhere, e.g. 443=127.0.0.1:8443, or 80=127.0.0.1:0 for any free port (repeatable).",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>The repeatable <c>--allowed-origin ORIGIN</c> option: the WebTransport session allow-list.</summary>
    public static Option<string[]> AllowedOriginOption() => new("--allowed-origin")
    {
        Description = "Accept WebTransport sessions only from this Origin, e.g. https://app.example.com (repeatable; none given accepts any origin). Others get 403.",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>Builds the bindings from the parsed options.</summary>
    /// <exception cref="FormatException">A <c>--bind</c> value is not <c>PORT=ADDRESS:PORT</c>.</exception>
    public static DataPlaneBindings From(IPAddress address, IEnumerable<string>? binds)
    {
        var overrides = new Dictionary<int, IPEndPoint>();
        foreach (var bind in binds ?? [])
        {
            var (port, endPoint) = ParseBind(bind);
            overrides[port] = endPoint;
        }

        return new DataPlaneBindings { Address = address, Overrides = overrides };
    }

    /// <summary>Parses <c>LISTENERPORT=ADDRESS:PORT</c>.</summary>
    /// <exception cref="FormatException">The text is not of that form.</exception>
    public static (int Port, IPEndPoint EndPoint) ParseBind(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals > 0
            && int.TryParse(text.AsSpan(0, equals), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            && IPEndPoint.TryParse(text.AsSpan(equals + 1), out var endPoint) && text.AsSpan(equals + 1).Contains(':'))
        {
            return (port, endPoint);
        }

        throw new FormatException($"'{text}' is not LISTENERPORT=ADDRESS:PORT (for example 443=127.0.0.1:8443).");
    }
}
