namespace Switchyard.Kubernetes.Client;

/// <summary>Query options of a list request.</summary>
public sealed record ListOptions
{
    /// <summary>A label selector, for example <c>app=web,tier!=cache</c>.</summary>
    public string? LabelSelector { get; init; }

    /// <summary>A field selector, for example <c>metadata.name=x</c>.</summary>
    public string? FieldSelector { get; init; }

    /// <summary>Maximum items in one page; the answer's continue token fetches the next page.</summary>
    public int? Limit { get; init; }

    /// <summary>The continue token of the previous page.</summary>
    public string? Continue { get; init; }

    /// <summary>The resourceVersion to read at (<c>"0"</c> means any).</summary>
    public string? ResourceVersion { get; init; }
}

/// <summary>Query options of a watch request.</summary>
public sealed record WatchOptions
{
    /// <summary>Start after this resourceVersion; null starts with synthetic ADDED events for the current state.</summary>
    public string? ResourceVersion { get; init; }

    /// <summary>Ask for BOOKMARK events.</summary>
    public bool AllowWatchBookmarks { get; init; }

    /// <summary>Ask the server to end the watch after this many seconds.</summary>
    public int? TimeoutSeconds { get; init; }

    /// <summary>A label selector.</summary>
    public string? LabelSelector { get; init; }

    /// <summary>A field selector.</summary>
    public string? FieldSelector { get; init; }
}

/// <summary>The patch formats the API server understands.</summary>
public enum PatchType
{
    /// <summary>RFC 7386 JSON merge patch, <c>application/merge-patch+json</c>.</summary>
    Merge,

    /// <summary>RFC 6902 JSON patch, <c>application/json-patch+json</c>.</summary>
    Json,

    /// <summary>Kubernetes strategic merge patch (built-in kinds only), <c>application/strategic-merge-patch+json</c>.</summary>
    StrategicMerge,

    /// <summary>Server-side apply, <c>application/apply-patch+yaml</c>; needs a field manager.</summary>
    Apply,
}

/// <summary>Options of a delete request.</summary>
public sealed record DeleteOptions
{
    /// <summary>Delete only when the object still has this resourceVersion.</summary>
    public string? PreconditionResourceVersion { get; init; }

    /// <summary>Delete only when the object still has this uid.</summary>
    public string? PreconditionUid { get; init; }

    /// <summary><c>Orphan</c>, <c>Background</c> or <c>Foreground</c>.</summary>
    public string? PropagationPolicy { get; init; }
}

/// <summary>One page of a list.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <param name="Items">The items.</param>
/// <param name="ResourceVersion">The list's resourceVersion: watch from here to see every later change.</param>
/// <param name="Continue">The token of the next page; null or empty on the last page.</param>
public sealed record ResourceList<T>(IReadOnlyList<T> Items, string ResourceVersion, string? Continue);
