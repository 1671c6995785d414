using System.Text.Json;
using System.Text.Json.Serialization;
using Switchyard.Api.Coordination;
using Switchyard.Api.Core;
using Switchyard.Api.Discovery;
using Switchyard.Api.GatewayApi;
using Switchyard.Api.Meta;
using Switchyard.Api.WebTransport;

namespace Switchyard.Api.Serialization;

/// <summary>
/// Source-generated JSON metadata for every API type: camelCase names, nulls omitted. <see cref="Default"/>
/// tolerates unknown fields (objects from a newer API server); <see cref="Strict"/> rejects them (manifests).
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GatewayClass))]
[JsonSerializable(typeof(Gateway))]
[JsonSerializable(typeof(HttpRoute))]
[JsonSerializable(typeof(ReferenceGrant))]
[JsonSerializable(typeof(WebTransportRoute))]
[JsonSerializable(typeof(ListenerSet))]
[JsonSerializable(typeof(Secret))]
[JsonSerializable(typeof(BackendTlsPolicy))]
[JsonSerializable(typeof(ConfigMap))]
[JsonSerializable(typeof(PolicyStatus))]
[JsonSerializable(typeof(Service))]
[JsonSerializable(typeof(Namespace))]
[JsonSerializable(typeof(EndpointSlice))]
[JsonSerializable(typeof(Lease))]
[JsonSerializable(typeof(ConfigMap))]
[JsonSerializable(typeof(GatewayClassStatus))]
[JsonSerializable(typeof(GatewayStatus))]
[JsonSerializable(typeof(RouteStatus))]
[JsonSerializable(typeof(ListenerSetStatus))]
[JsonSerializable(typeof(Condition))]
[JsonSerializable(typeof(KubernetesList<GatewayClass>))]
[JsonSerializable(typeof(KubernetesList<Gateway>))]
[JsonSerializable(typeof(KubernetesList<HttpRoute>))]
[JsonSerializable(typeof(KubernetesList<ReferenceGrant>))]
[JsonSerializable(typeof(KubernetesList<WebTransportRoute>))]
[JsonSerializable(typeof(KubernetesList<ListenerSet>))]
[JsonSerializable(typeof(KubernetesList<Secret>))]
[JsonSerializable(typeof(KubernetesList<Service>))]
[JsonSerializable(typeof(KubernetesList<Namespace>))]
[JsonSerializable(typeof(KubernetesList<EndpointSlice>))]
[JsonSerializable(typeof(KubernetesList<Lease>))]
[JsonSerializable(typeof(KubernetesList<BackendTlsPolicy>))]
[JsonSerializable(typeof(KubernetesList<ConfigMap>))]
public sealed partial class ApiJsonContext : JsonSerializerContext
{
    private static ApiJsonContext? strict;

    /// <summary>A context that fails on unknown fields, for strictly decoding manifests.</summary>
    public static ApiJsonContext Strict => strict ??= new ApiJsonContext(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    });
}
