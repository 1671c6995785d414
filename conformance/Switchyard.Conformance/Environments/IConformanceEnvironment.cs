using System.Text.Json.Nodes;
using Switchyard.Conformance.Backends;
using Switchyard.Conformance.Kube;

namespace Switchyard.Conformance.Environments;

/// <summary>Where the suite runs: the in-process API server, controller and data plane, or a real cluster.</summary>
internal interface IConformanceEnvironment : IAsyncDisposable
{
    /// <summary>"in-process" or "cluster" (the report's <c>mode</c>).</summary>
    string Mode { get; }

    KubeObjects Kube { get; }

    /// <summary>Called after the suite applied an object: the in-process environment plays the Deployment and
    /// EndpointSlice controllers here.</summary>
    Task OnAppliedAsync(JsonObject obj, CancellationToken cancellationToken);

    /// <summary>Where to send requests for a Gateway listener port: <c>host:port</c>, or null when the Gateway is not
    /// reachable yet (the callers retry).</summary>
    Task<string?> TryGetGatewayAddressAsync(NN gateway, int listenerPort, CancellationToken cancellationToken);

    /// <summary>Where to open WebTransport sessions (QUIC over UDP) for a Gateway's HTTPS listener port: <c>host:port</c>,
    /// or null when it is not reachable yet (the callers retry).</summary>
    Task<string?> TryGetWebTransportAddressAsync(NN gateway, int listenerPort, CancellationToken cancellationToken);

    /// <summary>Track messages pods of a backend received since a time (WebTransportRoute checks); null when this
    /// environment cannot observe backends.</summary>
    IReadOnlyList<TrackLogEntry>? TracksReceived(string podPrefix, string ns, DateTimeOffset since);

    /// <summary>Requests the pods of a backend (a Deployment's name, which is also its pods' <c>app</c> label and
    /// their names' prefix) answered since a time (mirror checks).</summary>
    Task<IReadOnlyList<EchoLogEntry>> RequestsReceivedAsync(string backend, string ns, DateTimeOffset since, CancellationToken cancellationToken);
}
