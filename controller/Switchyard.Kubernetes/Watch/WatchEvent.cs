using Switchyard.Kubernetes.Client;

namespace Switchyard.Kubernetes.Watch;

/// <summary>The type of a watch event.</summary>
public enum WatchEventType
{
    /// <summary>The object was created (or is part of the initial state).</summary>
    Added,

    /// <summary>The object changed.</summary>
    Modified,

    /// <summary>The object is gone; the event carries its last state.</summary>
    Deleted,

    /// <summary>No object changed; the watch has reached <see cref="WatchEvent{T}.ResourceVersion"/>.</summary>
    Bookmark,

    /// <summary>The server ended the watch with a Status (for example 410 Expired).</summary>
    Error,
}

/// <summary>One event of a watch stream.</summary>
/// <typeparam name="T">The object type.</typeparam>
public sealed class WatchEvent<T>
{
    /// <summary>The event type.</summary>
    public required WatchEventType Type { get; init; }

    /// <summary>The object for ADDED, MODIFIED and DELETED; null for BOOKMARK and ERROR.</summary>
    public T? Object { get; init; }

    /// <summary>metadata.resourceVersion of the event's object (the bookmark's version for BOOKMARK).</summary>
    public string? ResourceVersion { get; init; }

    /// <summary>metadata.namespace of the object, when it has one.</summary>
    public string? Namespace { get; init; }

    /// <summary>metadata.name of the object.</summary>
    public string? Name { get; init; }

    /// <summary>The Status of an ERROR event.</summary>
    public KubernetesStatus? Status { get; init; }
}
