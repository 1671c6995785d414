using System.Globalization;
using System.Text.Json.Nodes;
using Switchyard.Conformance.Backends;
using Switchyard.Conformance.Kube;
using Switchyard.Controller.Providers.Kubernetes;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.Config;

namespace Switchyard.Conformance.Environments;

/// <summary>
/// A real cluster reached through a kubeconfig: the implementation under test is already installed, Deployments run
/// the echo image as real Pods, and a Gateway's address is the first entry of its <c>status.addresses</c>.
/// </summary>
internal sealed class ClusterEnvironment(KubernetesClient client) : IConformanceEnvironment
{
    public string Mode => "cluster";

    public KubeObjects Kube { get; } = new(client);

    public static ClusterEnvironment Connect(string kubeconfig) =>
        new(new KubernetesClient(KubernetesClientConfiguration.FromKubeconfigFile(kubeconfig)));

    public Task OnAppliedAsync(JsonObject obj, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<string?> TryGetGatewayAddressAsync(NN gateway, int listenerPort, CancellationToken cancellationToken)
    {
        var gw = await Kube.TryGetAsync(KubernetesResources.Gateways, gateway.Namespace, gateway.Name, cancellationToken).ConfigureAwait(false);
        var address = (gw?["status"]?["addresses"] as JsonArray)?.Select(a => Conditions.Str(a, "value")).FirstOrDefault(v => !string.IsNullOrEmpty(v));
        if (address is null)
        {
            return null;
        }

        var host = address.Contains(':', StringComparison.Ordinal) ? $"[{address}]" : address;
        return string.Create(CultureInfo.InvariantCulture, $"{host}:{listenerPort}");
    }

    /// <summary>A Gateway's HTTPS port serves QUIC on the same address and port number (one LoadBalancer IP, TCP and UDP).</summary>
    public Task<string?> TryGetWebTransportAddressAsync(NN gateway, int listenerPort, CancellationToken cancellationToken) =>
        TryGetGatewayAddressAsync(gateway, listenerPort, cancellationToken);

    /// <summary>echo-basic logs no track headers, so track delivery checks cannot run against a cluster.</summary>
    public IReadOnlyList<TrackLogEntry>? TracksReceived(string podPrefix, string ns, DateTimeOffset since) => null;

    /// <summary>The echo pods' logs, read through the API as upstream does (so no headers: echo-basic logs none).</summary>
    public Task<IReadOnlyList<EchoLogEntry>> RequestsReceivedAsync(string backend, string ns, DateTimeOffset since, CancellationToken cancellationToken) =>
        EchoPodLogs.ReadAsync(client, backend, ns, since, cancellationToken);

    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }
}
