using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.Client;

/// <summary>One cause inside a Status's details (a field that failed validation, for example).</summary>
/// <param name="Reason">Machine-readable cause, for example <c>FieldValueRequired</c>.</param>
/// <param name="Message">Human-readable text.</param>
/// <param name="Field">The JSON path of the field, for example <c>spec.gatewayClassName</c>.</param>
public sealed record StatusCause(string? Reason, string? Message, string? Field);

/// <summary>The API server's <c>meta/v1 Status</c> error object.</summary>
/// <param name="Code">The HTTP status code it carries.</param>
/// <param name="Reason">The machine-readable reason: <c>NotFound</c>, <c>AlreadyExists</c>, <c>Conflict</c>, <c>Invalid</c>, <c>Expired</c>…</param>
/// <param name="Message">Human-readable text.</param>
/// <param name="Name">details.name.</param>
/// <param name="Group">details.group.</param>
/// <param name="Kind">details.kind (the resource plural for most errors).</param>
/// <param name="Causes">details.causes.</param>
public sealed record KubernetesStatus(int Code, string Reason, string Message, string? Name, string? Group, string? Kind, IReadOnlyList<StatusCause> Causes)
{
    /// <summary>Reads a Status object; returns null when <paramref name="node"/> is not one.</summary>
    public static KubernetesStatus? FromJson(JsonNode? node)
    {
        if (node is not JsonObject o || (string?)o["kind"] is not "Status")
        {
            return null;
        }

        var details = o["details"] as JsonObject;
        var causes = new List<StatusCause>();
        if (details?["causes"] is JsonArray arr)
        {
            foreach (var c in arr)
            {
                if (c is JsonObject co)
                {
                    causes.Add(new StatusCause(Text(co["reason"]), Text(co["message"]), Text(co["field"])));
                }
            }
        }

        var code = o["code"] is JsonValue cv && cv.TryGetValue<int>(out var ci) ? ci : 0;
        return new KubernetesStatus(code, Text(o["reason"]) ?? "", Text(o["message"]) ?? "",
            Text(details?["name"]), Text(details?["group"]), Text(details?["kind"]), causes);
    }

    private static string? Text(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}

/// <summary>The API server answered with an error; <see cref="Status"/> holds its parsed Status object.</summary>
public sealed class KubernetesApiException : Exception
{
    /// <summary>Creates the exception from a Status.</summary>
    public KubernetesApiException(KubernetesStatus status) : base($"{status.Code} {status.Reason}: {status.Message}") => Status = status;

    /// <summary>Creates the exception with a message (not from a server answer).</summary>
    public KubernetesApiException() : this(new KubernetesStatus(0, "Unknown", "unknown error", null, null, null, [])) { }

    /// <summary>Creates the exception with a message (not from a server answer).</summary>
    public KubernetesApiException(string message) : this(new KubernetesStatus(0, "Unknown", message, null, null, null, [])) { }

    /// <summary>Creates the exception with a message and cause (not from a server answer).</summary>
    public KubernetesApiException(string message, Exception innerException) : base(message, innerException) =>
        Status = new KubernetesStatus(0, "Unknown", message, null, null, null, []);

    /// <summary>The parsed Status.</summary>
    public KubernetesStatus Status { get; }

    /// <summary>The HTTP status code.</summary>
    public int Code => Status.Code;

    /// <summary>The Status reason.</summary>
    public string Reason => Status.Reason;

    /// <summary>True for 404 NotFound.</summary>
    public bool IsNotFound => Code == 404;

    /// <summary>True for 409 with reason Conflict (a stale resourceVersion).</summary>
    public bool IsConflict => Code == 409 && Reason == "Conflict";

    /// <summary>True for 409 with reason AlreadyExists.</summary>
    public bool IsAlreadyExists => Code == 409 && Reason == "AlreadyExists";

    /// <summary>True for 410 Gone / reason Expired (a compacted resourceVersion or continue token).</summary>
    public bool IsGone => Code == 410;
}
