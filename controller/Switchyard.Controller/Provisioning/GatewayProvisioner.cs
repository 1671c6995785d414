using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Api.Serialization;
using Switchyard.Controller.Providers;
using Switchyard.Controller.Translation;
using Switchyard.Kubernetes.Client;

namespace Switchyard.Controller.Provisioning;

/// <summary>Options of a <see cref="GatewayProvisioner"/>.</summary>
public sealed record GatewayProvisionerOptions
{
    /// <summary>The labels of the data-plane pods each Gateway Service selects. Default: the install's controller pods,
    /// which serve every Gateway's listeners (<c>config/gateway/deployment.yaml</c>).</summary>
    public IReadOnlyDictionary<string, string> DataPlaneSelector { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["app.kubernetes.io/name"] = "switchyard",
        ["app.kubernetes.io/component"] = "controller",
    };

    /// <summary>
    /// A stand-in for the cluster's load balancer (MetalLB) where there is none, such as the in-process API server:
    /// it fills the Services' <c>status.loadBalancer.ingress</c>. Null leaves that to the cluster.
    /// </summary>
    public LocalLoadBalancerOptions? LocalLoadBalancer { get; init; }
}

/// <summary>What one reconcile did.</summary>
/// <param name="Created">Services created.</param>
/// <param name="Patched">Services patched.</param>
/// <param name="Deleted">Services deleted.</param>
/// <param name="Failed">Failures (each is retried on the next reconcile).</param>
public readonly record struct ProvisioningReport(int Created, int Patched, int Deleted, int Failed);

/// <summary>
/// Makes the generated resources match the translation: one LoadBalancer Service <c>switchyard-GATEWAY</c> per
/// accepted Gateway (created, patched or deleted), labelled <c>gateway.networking.k8s.io/gateway-name</c>.
/// </summary>
/// <remarks>
/// Steps: 1. Find the Services this controller generated (label <c>app.kubernetes.io/managed-by=switchyard</c>) in
/// the translated snapshot.
/// 2. Create the missing ones, patch (JSON merge patch) the ones that differ. 3. Delete generated Services whose
/// Gateway is gone or no longer needs one. 4. With a <see cref="LocalLoadBalancer"/>, assign their addresses.
/// Level-triggered: it runs after every translation, and a failure is retried by the next run.
/// </remarks>
public sealed class GatewayProvisioner
{
    private readonly ResourceClient<JsonObject> services;
    private readonly GatewayProvisionerOptions options;
    private readonly LocalLoadBalancer? loadBalancer;
    private readonly Action<string, Exception?>? log;

    /// <summary>Creates a provisioner over a client.</summary>
    /// <param name="client">The API client.</param>
    /// <param name="options">Options, or null for defaults.</param>
    /// <param name="log">Receives a line per change and per failure (with the exception); null discards them.</param>
    public GatewayProvisioner(KubernetesClient client, GatewayProvisionerOptions? options = null, Action<string, Exception?>? log = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        services = client.Resource(ResourceType.Services);
        this.options = options ?? new GatewayProvisionerOptions();
        this.log = log;
        loadBalancer = this.options.LocalLoadBalancer is { } lb ? new LocalLoadBalancer(lb) : null;
    }

    /// <summary>Brings the generated Services in line with a translation.</summary>
    /// <param name="result">The translation (its <see cref="TranslationResult.Infrastructure"/> and Gateway statuses).</param>
    /// <param name="snapshot">The objects it was translated from (to tell a deleted Gateway from another controller's).</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>What was done.</returns>
    public async Task<ProvisioningReport> ReconcileAsync(TranslationResult result, ResourceSnapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(snapshot);
        int created = 0, patched = 0, deleted = 0, failed = 0;

        // :: Step 1
        // The provider's informer cache, not a list per run: it may lag behind this provisioner's own last write,
        // which a create answered with AlreadyExists settles (CreateOrAdoptAsync).
        var byName = snapshot.Services
            .Where(s => s.Metadata.Labels?.GetValueOrDefault(GatewayInfrastructureNames.ManagedByLabel) == GatewayInfrastructureNames.ManagedByValue)
            .Select(s => JsonSerializer.SerializeToNode(s, ApiJsonContext.Default.Service)!.AsObject())
            .ToDictionary(s => (Ns(s), Name(s)));
        var current = new List<JsonObject>();

        // :: Step 2
        foreach (var intent in result.Infrastructure)
        {
            try
            {
                if (!byName.Remove((intent.Namespace, intent.ServiceName), out var service))
                {
                    (service, var isNew) = await CreateOrAdoptAsync(intent, cancellationToken).ConfigureAwait(false);
                    if (isNew)
                    {
                        created++;
                        log?.Invoke($"provisioner: created Service {intent.Namespace}/{intent.ServiceName} for Gateway {intent.Gateway}", null);
                    }
                }

                if (GatewayService.Patch(service, intent, options.DataPlaneSelector) is { } patch)
                {
                    service = await services.PatchAsync(intent.Namespace, intent.ServiceName, PatchType.Merge, patch, cancellationToken: cancellationToken).ConfigureAwait(false);
                    patched++;
                    log?.Invoke($"provisioner: updated Service {intent.Namespace}/{intent.ServiceName} for Gateway {intent.Gateway}", null);
                }

                current.Add(service);
            }
            catch (Exception ex) when (ex is KubernetesApiException or HttpRequestException)
            {
                failed++;
                log?.Invoke($"provisioner: Service {intent.Namespace}/{intent.ServiceName} for Gateway {intent.Gateway} failed", ex);
            }
        }

        // :: Step 3
        var ours = result.Statuses.Gateways.Select(g => (g.Namespace ?? "", g.Name)).ToHashSet();
        foreach (var ((ns, name), service) in byName)
        {
            var gateway = (string?)service["metadata"]?["labels"]?[GatewayInfrastructureNames.GatewayNameLabel] ?? "";
            if (snapshot.GetGateway(ns, gateway) is not null && !ours.Contains((ns, gateway)))
            {
                // Another controller's Gateway of the same name: not ours to judge.
                continue;
            }

            try
            {
                await services.DeleteAsync(ns, name, cancellationToken: cancellationToken).ConfigureAwait(false);
                deleted++;
                log?.Invoke($"provisioner: deleted Service {ns}/{name} (Gateway {gateway} needs none)", null);
            }
            catch (KubernetesApiException ex) when (ex.Status.Code == 404)
            {
                // Already gone (the garbage collector followed the owner reference).
            }
            catch (Exception ex) when (ex is KubernetesApiException or HttpRequestException)
            {
                failed++;
                log?.Invoke($"provisioner: deleting Service {ns}/{name} failed", ex);
            }
        }

        // :: Step 4
        if (loadBalancer is not null)
        {
            failed += await loadBalancer.AssignAsync(services, current, log, cancellationToken).ConfigureAwait(false);
        }

        return new ProvisioningReport(created, patched, deleted, failed);
    }

    /// <summary>
    /// Creates the Service. When it exists already, it is ours when it carries our labels (created by a run the cache
    /// had not seen yet), and then returned to be patched; a namesake without them is a user's, left alone and reported.
    /// </summary>
    private async Task<(JsonObject Service, bool Created)> CreateOrAdoptAsync(GatewayInfrastructureIntent intent, CancellationToken cancellationToken)
    {
        try
        {
            return (await services.CreateAsync(intent.Namespace, GatewayService.Build(intent, options.DataPlaneSelector), cancellationToken).ConfigureAwait(false), true);
        }
        catch (KubernetesApiException ex) when (ex.Status.Code == 409)
        {
            var existing = await services.GetAsync(intent.Namespace, intent.ServiceName, cancellationToken).ConfigureAwait(false);
            var labels = existing["metadata"]?["labels"];
            if ((string?)labels?[GatewayInfrastructureNames.ManagedByLabel] == GatewayInfrastructureNames.ManagedByValue
                && (string?)labels?[GatewayInfrastructureNames.GatewayNameLabel] == intent.Gateway)
            {
                return (existing, false);
            }

            throw new KubernetesApiException($"Service {intent.Namespace}/{intent.ServiceName} exists and was not created by Switchyard; rename or delete it", ex);
        }
    }

    private static string Ns(JsonObject o) => (string?)o["metadata"]?["namespace"] ?? "";

    private static string Name(JsonObject o) => (string?)o["metadata"]?["name"] ?? "";
}
