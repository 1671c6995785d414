using System.CommandLine;
using System.Net;

namespace Switchyard.Cli;

/// <summary>Parses <c>ADDR:PORT</c> options for the command line.</summary>
internal static class Endpoints
{
    public static Option<IPEndPoint> Option(string name, string description, string defaultValue) => new(name)
    {
        Description = $"{description} (default {defaultValue}).",
        DefaultValueFactory = _ => Parse(defaultValue),
        CustomParser = result => Parse(result.Tokens.Single().Value),
    };

    public static IPEndPoint Parse(string value) =>
        IPEndPoint.TryParse(value, out var endpoint) && endpoint.Port != 0 || value.EndsWith(":0", StringComparison.Ordinal) && IPEndPoint.TryParse(value, out endpoint)
            ? endpoint!
            : throw new FormatException($"'{value}' is not ADDRESS:PORT (for example 127.0.0.1:4433).");
}
