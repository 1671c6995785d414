using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Switchyard.Conformance.Backends;
using Switchyard.Kubernetes.Client;

namespace Switchyard.Conformance.Kube;

/// <summary>
/// What echo pods answered, read from their container logs through the API (<c>pods/NAME/log</c>), as upstream's
/// mirror check does: echo-basic logs one line per request, <c>Echoing back request made to PATH to client (ADDR)</c>,
/// where PATH is the request target as received. The log says nothing of headers, so entries read here have none.
/// </summary>
internal static partial class EchoPodLogs
{
    /// <summary>The line an echo pod writes for a request (Go's log package puts a date in front, which is ignored).</summary>
    public static string Line(string requestTarget, string client) => $"Echoing back request made to {requestTarget} to client ({client})";

    /// <summary>
    /// Requests answered since <paramref name="since"/> by the Pods labelled <c>app=<paramref name="app"/></c> in
    /// <paramref name="namespace"/>. A Pod whose log cannot be read yet (its container not running) is skipped.
    /// </summary>
    public static async Task<IReadOnlyList<EchoLogEntry>> ReadAsync(KubernetesClient client, string app, string @namespace, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var pods = await client.Resource(KubeObjects.Pods)
            .ListAsync(@namespace, new ListOptions { LabelSelector = "app=" + app }, cancellationToken).ConfigureAwait(false);
        var entries = new List<EchoLogEntry>();
        foreach (var pod in pods.Items)
        {
            var name = pod["metadata"]?["name"]?.GetValue<string>() ?? "";
            string text;
            try
            {
                // sinceTime has whole seconds on the wire: the time is rounded down and the entries filtered again here.
                text = await client.ReadPodLogAsync(@namespace, name, sinceTime: since, timestamps: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (KubernetesApiException ex) when (ex.Code is 400 or 404)
            {
                continue;
            }

            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (TryParse(line, name, @namespace, out var entry) && entry.At >= since)
                {
                    entries.Add(entry);
                }
            }
        }

        return entries;
    }

    /// <summary>Parses one line of a log read with <c>timestamps=true</c>: an RFC 3339 time, a space, the line.</summary>
    internal static bool TryParse(string line, string pod, string @namespace, out EchoLogEntry entry)
    {
        entry = null!;
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || !DateTimeOffset.TryParse(line.AsSpan(0, space), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return false;
        }

        var match = RequestLine().Match(line, space + 1);
        if (!match.Success)
        {
            return false;
        }

        entry = new EchoLogEntry(pod, @namespace, "", match.Groups["target"].Value, "", null, at, match.Groups["client"].Value);
        return true;
    }

    [GeneratedRegex(@"Echoing back request made to (?<target>\S+) to client \((?<client>[^)]*)\)", RegexOptions.CultureInvariant)]
    private static partial Regex RequestLine();
}
