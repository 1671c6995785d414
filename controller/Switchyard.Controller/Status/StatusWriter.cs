using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Switchyard.Api.GatewayApi;
using Switchyard.Api.Meta;
using Switchyard.Api.Serialization;
using Switchyard.Api.WebTransport;
using Switchyard.Controller.Providers;
using Switchyard.Controller.Providers.Kubernetes;
using Switchyard.Controller.Translation;
using Switchyard.Kubernetes.Client;

namespace Switchyard.Controller.Status;

/// <summary>What one <see cref="StatusWriter.WriteAsync"/> pass did.</summary>
/// <param name="Written">Statuses patched.</param>
/// <param name="Unchanged">Statuses already as computed (nothing sent).</param>
/// <param name="Failed">Statuses that could not be written (logged; retried on the next pass).</param>
public readonly record struct StatusWriteReport(int Written, int Unchanged, int Failed);

/// <summary>Options of a <see cref="StatusWriter"/>.</summary>
public sealed record StatusWriterOptions
{
    /// <summary>This controller's name: route <c>parents[]</c> entries with it are ours.</summary>
    public string ControllerName { get; init; } = TranslatorOptions.DefaultControllerName;

    /// <summary>How many times one object is re-read and re-patched after 409 Conflict. Default 5.</summary>
    public int MaxConflictRetries { get; init; } = 5;

    /// <summary>Clock for <c>lastTransitionTime</c>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Receives one line per status written.</summary>
    public Action<string>? OnWritten { get; init; }

    /// <summary>Receives failures to write a status.</summary>
    public Action<string, Exception>? OnError { get; init; }
}

/// <summary>
/// Writes the statuses a translation computed to the API server: only those that differ from what the object has,
/// as an RFC 7386 merge patch of the <c>/status</c> subresource made conditional on the resourceVersion read.
/// </summary>
/// <remarks>
/// For each computed status:
/// <list type="number">
/// <item>Take the object from the snapshot the translation read (after a conflict: GET it afresh).</item>
/// <item>Merge (<see cref="StatusMerge"/>): keep lastTransitionTime of unchanged conditions, fill observedGeneration,
/// keep other controllers' conditions and route parents.</item>
/// <item>When the merged status equals the object's status, stop: nothing is written.</item>
/// <item>Patch <c>{"metadata":{"resourceVersion":rv},"status":merged}</c>, with nulls for top-level status fields
/// that must go (a merge patch keeps what it does not mention). On 409 Conflict go back to step 1.</item>
/// </list>
/// The caller makes sure only the leader calls <see cref="WriteAsync"/>.
/// </remarks>
public sealed class StatusWriter
{
    private readonly StatusWriterOptions options;
    private readonly ResourceClient<GatewayClass> gatewayClasses;
    private readonly ResourceClient<Gateway> gateways;
    private readonly ResourceClient<HttpRoute> httpRoutes;
    private readonly ResourceClient<WebTransportRoute> webTransportRoutes;
    private readonly ResourceClient<ListenerSet> listenerSets;
    private readonly ResourceClient<BackendTlsPolicy> backendTlsPolicies;

    // What we last wrote per object: lets a pass skip an object whose cached copy predates our own write.
    private readonly ConcurrentDictionary<string, (string? ResourceVersion, JsonNode? Status)> lastWritten = new(StringComparer.Ordinal);
    private long writes;

    /// <summary>Creates a writer.</summary>
    /// <param name="client">The API client.</param>
    /// <param name="options">Options, or null for defaults.</param>
    public StatusWriter(KubernetesClient client, StatusWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        this.options = options ?? new StatusWriterOptions();
        gatewayClasses = client.Resource(KubernetesResources.GatewayClasses, ApiJsonContext.Default.GatewayClass);
        gateways = client.Resource(KubernetesResources.Gateways, ApiJsonContext.Default.Gateway);
        httpRoutes = client.Resource(KubernetesResources.HttpRoutes, ApiJsonContext.Default.HttpRoute);
        webTransportRoutes = client.Resource(KubernetesResources.WebTransportRoutes, ApiJsonContext.Default.WebTransportRoute);
        listenerSets = client.Resource(KubernetesResources.ListenerSets, ApiJsonContext.Default.ListenerSet);
        backendTlsPolicies = client.Resource(KubernetesResources.BackendTlsPolicies, ApiJsonContext.Default.BackendTlsPolicy);
    }

    /// <summary>Total statuses patched by this writer.</summary>
    public long WriteCount => Interlocked.Read(ref writes);

    /// <summary>Writes every computed status that differs from the object's current status.</summary>
    /// <param name="snapshot">The snapshot the translation read (its objects carry their current status).</param>
    /// <param name="statuses">The computed statuses.</param>
    /// <param name="cancellationToken">Cancels the pass (for example when leadership ends).</param>
    /// <returns>What was done.</returns>
    public async Task<StatusWriteReport> WriteAsync(ResourceSnapshot snapshot, TranslationStatuses statuses, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(statuses);
        var outcomes = new List<Outcome>();
        var controller = options.ControllerName;
        foreach (var s in statuses.GatewayClasses)
        {
            outcomes.Add(await WriteOneAsync(gatewayClasses, "GatewayClass", s, snapshot.GetGatewayClass(s.Name),
                o => o.Status, (cur, comp, gen, now) => StatusMerge.Merge(cur, comp, gen, now), ApiJsonContext.Default.GatewayClassStatus, cancellationToken).ConfigureAwait(false));
        }

        foreach (var s in statuses.Gateways)
        {
            outcomes.Add(await WriteOneAsync(gateways, "Gateway", s, snapshot.GetGateway(s.Namespace ?? "", s.Name),
                o => o.Status, (cur, comp, gen, now) => StatusMerge.Merge(cur, comp, gen, now), ApiJsonContext.Default.GatewayStatus, cancellationToken).ConfigureAwait(false));
        }

        foreach (var s in statuses.HttpRoutes)
        {
            outcomes.Add(await WriteOneAsync(httpRoutes, "HTTPRoute", s, snapshot.Get<HttpRoute>("HTTPRoute", s.Namespace, s.Name),
                o => o.Status, (cur, comp, gen, now) => StatusMerge.Merge(cur, comp, controller, gen, now), ApiJsonContext.Default.RouteStatus, cancellationToken).ConfigureAwait(false));
        }

        foreach (var s in statuses.WebTransportRoutes)
        {
            outcomes.Add(await WriteOneAsync(webTransportRoutes, SwitchyardApiNames.WebTransportRouteKind, s, snapshot.Get<WebTransportRoute>(SwitchyardApiNames.WebTransportRouteKind, s.Namespace, s.Name),
                o => o.Status, (cur, comp, gen, now) => StatusMerge.Merge(cur, comp, controller, gen, now), ApiJsonContext.Default.RouteStatus, cancellationToken).ConfigureAwait(false));
        }

        foreach (var s in statuses.ListenerSets)
        {
            outcomes.Add(await WriteOneAsync(listenerSets, "ListenerSet", s, snapshot.Get<ListenerSet>("ListenerSet", s.Namespace, s.Name),
                o => o.Status, (cur, comp, gen, now) => StatusMerge.Merge(cur, comp, gen, now), ApiJsonContext.Default.ListenerSetStatus, cancellationToken).ConfigureAwait(false));
        }

        foreach (var s in statuses.BackendTlsPolicies)
        {
            outcomes.Add(await WriteOneAsync(backendTlsPolicies, "BackendTLSPolicy", s, snapshot.Get<BackendTlsPolicy>("BackendTLSPolicy", s.Namespace, s.Name),
                o => o.Status, (cur, comp, gen, now) => StatusMerge.Merge(cur, comp, controller, gen, now), ApiJsonContext.Default.PolicyStatus, cancellationToken).ConfigureAwait(false));
        }

        return new StatusWriteReport(outcomes.Count(o => o == Outcome.Written), outcomes.Count(o => o == Outcome.Unchanged), outcomes.Count(o => o == Outcome.Failed));
    }

    private async Task<Outcome> WriteOneAsync<TObject, TStatus>(
        ResourceClient<TObject> client,
        string kind,
        ObjectStatus<TStatus> computed,
        TObject? cached,
        Func<TObject, TStatus?> statusOf,
        Func<TStatus?, TStatus, long?, DateTimeOffset, TStatus> merge,
        JsonTypeInfo<TStatus> statusInfo,
        CancellationToken cancellationToken)
        where TObject : KubernetesObject
        where TStatus : class
    {
        var label = $"{kind} {(string.IsNullOrEmpty(computed.Namespace) ? "" : computed.Namespace + "/")}{computed.Name}";
        var key = $"{kind}/{computed.Namespace}/{computed.Name}";
        var obj = cached;
        for (var attempt = 0; attempt <= options.MaxConflictRetries; attempt++)
        {
            try
            {
                // :: Step 1
                if (obj is null || attempt > 0)
                {
                    obj = await client.TryGetAsync(computed.Namespace, computed.Name, cancellationToken).ConfigureAwait(false);
                    if (obj is null)
                    {
                        // Deleted since the snapshot: nothing to report on.
                        return Outcome.Unchanged;
                    }
                }

                // :: Step 2
                var currentStatus = statusOf(obj);
                var merged = merge(currentStatus, computed.Status, computed.Generation ?? obj.Metadata.Generation, options.TimeProvider.GetUtcNow());

                // :: Step 3
                if (StatusMerge.JsonEquals(currentStatus, merged, statusInfo))
                {
                    return Outcome.Unchanged;
                }

                var mergedJson = StatusMerge.ToJson(merged, statusInfo)!;
                var rv = obj.Metadata.ResourceVersion;
                if (attempt == 0 && lastWritten.TryGetValue(key, out var last) && last.ResourceVersion == rv && JsonNode.DeepEquals(last.Status, mergedJson))
                {
                    // The cache has not seen our previous write of this very status yet.
                    return Outcome.Unchanged;
                }

                // :: Step 4
                var statusPatch = (JsonObject)mergedJson.DeepClone();
                if (StatusMerge.ToJson(currentStatus, statusInfo) is JsonObject currentJson)
                {
                    foreach (var (field, _) in currentJson)
                    {
                        if (!statusPatch.ContainsKey(field))
                        {
                            statusPatch[field] = null;
                        }
                    }
                }

                var patch = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["resourceVersion"] = rv },
                    ["status"] = statusPatch,
                };
                var written = await client.PatchStatusAsync(computed.Namespace, computed.Name, PatchType.Merge, patch, cancellationToken: cancellationToken).ConfigureAwait(false);
                lastWritten[key] = (rv, mergedJson);
                Interlocked.Increment(ref writes);
                options.OnWritten?.Invoke($"status written: {label} generation {computed.Generation} resourceVersion {rv} -> {written.Metadata.ResourceVersion}");
                return Outcome.Written;
            }
            catch (KubernetesApiException ex) when (ex.IsConflict)
            {
                // Someone wrote in between: re-read and merge again.
                continue;
            }
            catch (KubernetesApiException ex) when (ex.IsNotFound)
            {
                return Outcome.Unchanged;
            }
            catch (Exception ex) when (ex is KubernetesApiException or HttpRequestException or TimeoutException or IOException)
            {
                options.OnError?.Invoke($"cannot write status of {label}", ex);
                return Outcome.Failed;
            }
        }

        options.OnError?.Invoke($"cannot write status of {label}", new KubernetesApiException($"still conflicting after {options.MaxConflictRetries} retries"));
        return Outcome.Failed;
    }

    private enum Outcome
    {
        Written,
        Unchanged,
        Failed,
    }
}
