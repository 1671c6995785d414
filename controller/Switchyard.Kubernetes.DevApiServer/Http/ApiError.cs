using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.DevApiServer.Http;

/// <summary>An error answered as a <c>meta/v1 Status</c>, shaped exactly as kube-apiserver shapes it.</summary>
internal sealed class ApiError : Exception
{
    public ApiError(int code, string reason, string message, string? name = null, string? group = null, string? kind = null, JsonArray? causes = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Name = name;
        Group = group;
        Kind = kind;
        Causes = causes;
    }

    public int Code { get; }

    public string Reason { get; }

    public string? Name { get; }

    public string? Group { get; }

    public string? Kind { get; }

    public JsonArray? Causes { get; }

    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
            ["reason"] = Reason,
        };
        if (Name is not null || Group is not null || Kind is not null || Causes is not null)
        {
            var details = new JsonObject();
            if (Name is not null)
            {
                details["name"] = Name;
            }

            if (Group is { Length: > 0 })
            {
                details["group"] = Group;
            }

            if (Kind is not null)
            {
                details["kind"] = Kind;
            }

            if (Causes is not null)
            {
                details["causes"] = Causes.DeepClone();
            }

            status["details"] = details;
        }

        status["code"] = Code;
        return status;
    }

    /// <summary><c>plural.group</c>, or <c>plural</c> for the core group: how the server names a resource in messages.</summary>
    public static string Qualified(string group, string plural) => group.Length == 0 ? plural : $"{plural}.{group}";

    public static ApiError NotFound(string group, string plural, string name) =>
        new(404, "NotFound", $"{Qualified(group, plural)} \"{name}\" not found", name, group, plural);

    public static ApiError AlreadyExists(string group, string plural, string name) =>
        new(409, "AlreadyExists", $"{Qualified(group, plural)} \"{name}\" already exists", name, group, plural);

    public static ApiError Conflict(string group, string plural, string name) =>
        new(409, "Conflict",
            $"Operation cannot be fulfilled on {Qualified(group, plural)} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            name, group, plural);

    public static ApiError BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiError MethodNotAllowed(string message) => new(405, "MethodNotAllowed", message);

    public static ApiError UnsupportedMediaType(string contentType) =>
        new(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml; got {contentType}");

    public static ApiError Gone(string message) => new(410, "Expired", message);

    /// <summary>422 Invalid with field causes; the message lists them the way the server's aggregate error does.</summary>
    public static ApiError Invalid(string kind, string group, string name, IReadOnlyList<(string Field, string Reason, string Message)> errors)
    {
        var causes = new JsonArray();
        var texts = new List<string>();
        foreach (var (field, reason, message) in errors)
        {
            causes.Add(new JsonObject { ["reason"] = reason, ["message"] = message, ["field"] = field });
            texts.Add($"{field}: {message}");
        }

        var qualifiedKind = group.Length == 0 ? kind : $"{kind}.{group}";
        var summary = texts.Count == 1 ? texts[0] : $"[{string.Join(", ", texts)}]";
        return new ApiError(422, "Invalid", $"{qualifiedKind} \"{name}\" is invalid: {summary}", name, group, kind, causes);
    }
}
