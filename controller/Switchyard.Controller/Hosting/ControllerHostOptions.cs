using Switchyard.Controller.Provisioning;
using Switchyard.Controller.Translation;

namespace Switchyard.Controller.Hosting;

/// <summary>Severity of a controller log line.</summary>
public enum ControllerLogLevel
{
    /// <summary>Detail for debugging.</summary>
    Debug,

    /// <summary>Normal operation (leadership changes, status writes).</summary>
    Information,

    /// <summary>A failure the controller recovers from.</summary>
    Warning,

    /// <summary>A failure that stops part of the controller.</summary>
    Error,
}

/// <summary>Receives the controller's log lines.</summary>
/// <param name="level">Severity.</param>
/// <param name="message">The message.</param>
/// <param name="exception">The failure, if any.</param>
public delegate void ControllerLog(ControllerLogLevel level, string message, Exception? exception);

/// <summary>Lease-based leader election settings (client-go's defaults).</summary>
public sealed record LeaderElectionOptions
{
    /// <summary>The Lease's name. Default <c>switchyard-controller</c>.</summary>
    public string LeaseName { get; init; } = "switchyard-controller";

    /// <summary>The Lease's namespace. Default <c>switchyard-system</c>.</summary>
    public string LeaseNamespace { get; init; } = "switchyard-system";

    /// <summary>This replica's identity; unique among replicas (the pod name in a cluster).</summary>
    public required string Identity { get; init; }

    /// <summary>Default 15 s.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Default 10 s.</summary>
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Default 2 s.</summary>
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>Options of a <see cref="ControllerHost"/>.</summary>
public sealed record ControllerHostOptions
{
    /// <summary>The translator's settings, including the controller name GatewayClasses must name.</summary>
    public TranslatorOptions Translator { get; init; } = new();

    /// <summary>
    /// Provisioning of each accepted Gateway's LoadBalancer Service (done by the leader, before it writes status);
    /// null provisions nothing, and Gateways then get no <c>status.addresses</c> from a load balancer.
    /// </summary>
    public GatewayProvisionerOptions? Provisioning { get; init; }

    /// <summary>Leader election; null means this replica always writes status (a single replica).</summary>
    public LeaderElectionOptions? LeaderElection { get; init; }

    /// <summary>Quiet time before a change is translated. Default 100 ms.</summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Server-side timeout of each informer watch. Default 5 min.</summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>First delay before a failed status write is retried; doubles up to 30 s. Default 500 ms.</summary>
    public TimeSpan StatusRetryBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Clock for condition timestamps.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Receives log lines; null discards them.</summary>
    public ControllerLog? Log { get; init; }
}
