using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Switchyard.Kubernetes.DevApiServer.Http;

namespace Switchyard.Kubernetes.DevApiServer.Logs;

/// <summary>One line a container wrote, with the time the runtime recorded it.</summary>
/// <param name="At">When the line was written.</param>
/// <param name="Line">The line, without its newline.</param>
public readonly record struct PodLogEntry(DateTimeOffset At, string Line);

/// <summary>
/// The kubelet's part of <c>GET .../pods/NAME/log</c>: kube-apiserver forwards that request to the node running the
/// Pod. This server has no nodes, so whoever plays the kubelet (an environment that runs Pods in process) says what
/// each Pod's containers wrote.
/// </summary>
public interface IPodLogSource
{
    /// <summary>A container's log, oldest first, or null when no container of that Pod runs here.</summary>
    /// <param name="namespace">The Pod's namespace.</param>
    /// <param name="pod">The Pod's name.</param>
    /// <param name="container">The container asked for, or null for the Pod's only one.</param>
    IReadOnlyList<PodLogEntry>? Read(string @namespace, string pod, string? container);
}

/// <summary>
/// Serves <c>pods/NAME/log</c> the way kube-apiserver does for the parameters clients use to read a finished log:
/// <c>container</c>, <c>sinceTime</c> or <c>sinceSeconds</c>, <c>tailLines</c>, <c>timestamps</c>, <c>limitBytes</c>.
/// The answer is <c>text/plain</c>. Following a log is refused (400) rather than answered with a log that never grows.
/// </summary>
internal static class PodLogs
{
    public static async Task ServeAsync(HttpContext context, IPodLogSource? source, string ns, string pod, TimeProvider time)
    {
        var query = context.Request.Query;
        if (IsTrue(query["follow"]))
        {
            throw ApiError.BadRequest("follow is not supported by this server: read the log without it and poll");
        }

        if (query.ContainsKey("sinceTime") && query.ContainsKey("sinceSeconds"))
        {
            // The message kube-apiserver's PodLogOptions validation gives.
            throw ApiError.BadRequest("at most one of `sinceTime` or `sinceSeconds` may be specified");
        }

        DateTimeOffset? since = null;
        if (query["sinceTime"].FirstOrDefault() is { } sinceTime)
        {
            since = DateTimeOffset.TryParse(sinceTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
                ? t
                : throw ApiError.BadRequest($"sinceTime '{sinceTime}' is not an RFC 3339 time");
        }
        else if (query["sinceSeconds"].FirstOrDefault() is { } sinceSeconds)
        {
            since = long.TryParse(sinceSeconds, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s > 0
                ? time.GetUtcNow().AddSeconds(-s)
                : throw ApiError.BadRequest("sinceSeconds must be greater than 0");
        }

        var tail = Count(query["tailLines"].FirstOrDefault(), "tailLines");
        var limit = Count(query["limitBytes"].FirstOrDefault(), "limitBytes");
        if (limit == 0)
        {
            throw ApiError.BadRequest("limitBytes must be greater than 0");
        }

        var container = query["container"].FirstOrDefault();
        var entries = source?.Read(ns, pod, container)
            ?? throw ApiError.BadRequest(container is null
                ? $"pod \"{pod}\" has no running container whose log this server can read"
                : $"container \"{container}\" in pod \"{pod}\" is not running on this server");

        IEnumerable<PodLogEntry> selected = since is { } from ? entries.Where(e => e.At >= from) : entries;
        if (tail is { } n)
        {
            var list = selected.ToList();
            selected = list.Skip(Math.Max(0, list.Count - (int)Math.Min(n, int.MaxValue)));
        }

        var text = new StringBuilder();
        var timestamps = IsTrue(query["timestamps"]);
        foreach (var entry in selected)
        {
            if (timestamps)
            {
                text.Append(entry.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture)).Append(' ');
            }

            text.Append(entry.Line).Append('\n');
        }

        var body = Encoding.UTF8.GetBytes(text.ToString());
        if (limit is { } max && body.Length > max)
        {
            body = body[..(int)Math.Min(max, int.MaxValue)];
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/plain";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private static bool IsTrue(Microsoft.Extensions.Primitives.StringValues value) => value.FirstOrDefault() is "true" or "1";

    private static long? Count(string? text, string name) => text is null
        ? null
        : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw ApiError.BadRequest($"{name} must be a non-negative integer");
}
