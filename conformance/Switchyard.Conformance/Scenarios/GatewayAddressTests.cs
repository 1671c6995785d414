using System.Globalization;
using System.Text.Json.Nodes;
using Switchyard.Conformance.Kube;
using Switchyard.Kubernetes.Client;
using static Switchyard.Conformance.Scenarios.Dsl;

namespace Switchyard.Conformance.Scenarios;

/// <summary>
/// The extended Gateway tests of addresses and generated infrastructure: static addresses (usable, unusable and of an
/// unsupported type), an address request without a value, and spec.infrastructure metadata on generated resources.
/// </summary>
internal static class GatewayAddressTests
{
    private static readonly ResourceType ServiceAccounts = new("", "v1", "serviceaccounts", "ServiceAccount", true);

    public static IEnumerable<ConformanceTest> All()
    {
        yield return new("GatewayStaticAddresses", "A Gateway in the gateway-conformance-infra namespace should be able to use previously determined addresses.", ["GatewayStaticAddresses"], ["tests/gateway-static-addresses.yaml"], async t =>
        {
            var gw = Gw("gateway-static-addresses");
            await GatewayMustHaveLatestConditionsAsync(t, gw);
            var current = await t.Kube.GetAsync(Kinds.Gateway, gw.Namespace, gw.Name, t.Ct);
            var spec = SpecAddresses(current);
            if (spec.Count != 3)
            {
                throw new ConformanceException($"expected 3 addresses on the Gateway, one invalid, one unusable and one usable; got {spec.Count}");
            }

            var (invalid, unusable, usable) = (spec[0], spec[1], spec[2]);

            // An address type the implementation does not support: not accepted.
            await t.Waiters.GatewayMustHaveConditionAsync(gw, F("Accepted", "UnsupportedAddress"), t.Ct);

            // Without it: accepted, but not programmed, because of the address that cannot be used.
            await RemoveAddressAsync(t, gw, invalid.Value);
            await GatewayMustHaveLatestConditionsAsync(t, gw);
            await t.Waiters.GatewayMustHaveConditionAsync(gw, T("Accepted"), t.Ct);
            await t.Waiters.GatewayMustHaveConditionAsync(gw, F("Programmed", "AddressNotUsable"), t.Ct);

            // With only the usable one: accepted, programmed, and that address in status.
            await RemoveAddressAsync(t, gw, unusable.Value);
            await GatewayMustHaveLatestConditionsAsync(t, gw);
            current = await t.Kube.GetAsync(Kinds.Gateway, gw.Namespace, gw.Name, t.Ct);
            await t.Waiters.GatewayMustHaveConditionAsync(gw, T("Accepted"), t.Ct);
            await t.Waiters.GatewayMustHaveConditionAsync(gw, T("Programmed"), t.Ct);
            await t.Waiters.GatewayStatusMustHaveListenersAsync(gw, [new("http", [HttpRoute], 0, [new ExpectedCondition("Accepted", "True"), new ExpectedCondition("ResolvedRefs", "True")])], t.Ct);
            if (SpecAddresses(current).Count != 1)
            {
                throw new ConformanceException($"expected only 1 address left in spec.addresses, got {SpecAddresses(current).Count}");
            }

            // Read with the latest conditions, as upstream does: the address must be there as soon as they are.
            var status = StatusAddresses(current);
            var values = status.Select(a => a.Value).ToList();
            if (values.Contains(unusable.Value) || values.Contains(invalid.Value) || !values.Contains(usable.Value))
            {
                throw new ConformanceException($"status.addresses [{string.Join(", ", values)}] should contain the usable address {usable.Value} and neither {unusable.Value} nor {invalid.Value}");
            }

            if (status.Where(a => a.Value == usable.Value).Any(a => a.Type != usable.Type))
            {
                throw new ConformanceException($"status address {usable.Value} should have type {usable.Type}");
            }
        });

        yield return new("GatewayOptionalAddressValue", "Check Gateway Support for GatewayAddressEmpty feature", ["GatewayAddressEmpty"], ["tests/gateway-optional-address-value.yaml"], async t =>
        {
            var gw = Gw("gateway-without-address-value");
            await GatewayMustHaveLatestConditionsAsync(t, gw);
            var address = await WaitForGatewayAddressAsync(t, gw, "http");
            t.Log($"GatewayOptionalAddressValue: Gateway {gw} was assigned {address}");
        });

        yield return new("GatewayInfrastructure", "Propagation of metadata from Gateway infrastructure to generated components", ["GatewayInfrastructurePropagation"], ["tests/gateway-infrastructure.yaml"], async t =>
        {
            var gw = Gw("gateway-with-infrastructure-metadata");
            await GatewayMustHaveLatestConditionsAsync(t, gw);
            var current = await t.Kube.GetAsync(Kinds.Gateway, gw.Namespace, gw.Name, t.Ct);
            await t.Waiters.GatewayMustHaveConditionAsync(gw, new ExpectedCondition("Accepted", "True"), t.Ct);

            var labels = StringMap(current["spec"]?["infrastructure"]?["labels"]);
            var annotations = StringMap(current["spec"]?["infrastructure"]?["annotations"]);
            var selector = new ListOptions { LabelSelector = "gateway.networking.k8s.io/gateway-name=" + gw.Name };

            // Upstream reads once, right after the conditions are latest: generated resources exist by then.
            var found = false;
            foreach (var type in new[] { ServiceAccounts, KubeObjects.Pods, ResourceType.Services })
            {
                var items = (await t.Kube.For(type).ListAsync(gw.Namespace, selector, t.Ct)).Items;
                if (items.Count == 0)
                {
                    continue;
                }

                found = true;
                var first = items[0];
                MustContain($"{type.Kind} {Names.Read(first).Name} labels", StringMap(first["metadata"]?["labels"]), labels);
                MustContain($"{type.Kind} {Names.Read(first).Name} annotations", StringMap(first["metadata"]?["annotations"]), annotations);
            }

            if (!found)
            {
                throw new ConformanceException($"expected to find a ServiceAccount, Pod, or Service with the label gateway.networking.k8s.io/gateway-name={gw.Name}");
            }
        });
    }

    /// <summary>Upstream's <c>GatewayMustHaveLatestConditions</c>: every Gateway condition computed from the current generation.</summary>
    private static Task GatewayMustHaveLatestConditionsAsync(TestContext t, NN gw) =>
        Poll.UntilAsync($"Gateway {gw} conditions of the latest generation", t.Options.Timeout, async ct =>
        {
            var obj = await t.Kube.TryGetAsync(Kinds.Gateway, gw.Namespace, gw.Name, ct).ConfigureAwait(false);
            if (obj is null)
            {
                return (false, "not found");
            }

            var generation = Conditions.Generation(obj);
            var conditions = obj["status"]?["conditions"] as JsonArray ?? [];
            var stale = conditions.Where(c => Conditions.Long(c, "observedGeneration") != generation).Select(c => Conditions.Str(c, "type")).ToList();
            return (conditions.Count > 0 && stale.Count == 0, conditions.Count == 0 ? "no conditions" : $"conditions {string.Join(", ", stale)} are of an older generation than {generation}");
        }, t.Ct);

    /// <summary>Upstream's <c>WaitForGatewayAddress</c>: the first status address with the listener's port.</summary>
    private static async Task<string> WaitForGatewayAddressAsync(TestContext t, NN gw, string listener)
    {
        string? address = null;
        await Poll.UntilAsync($"Gateway {gw} to have an address", t.Options.Timeout, async ct =>
        {
            var obj = await t.Kube.TryGetAsync(Kinds.Gateway, gw.Namespace, gw.Name, ct).ConfigureAwait(false);
            var port = (obj?["spec"]?["listeners"] as JsonArray ?? []).FirstOrDefault(l => Conditions.Str(l, "name") == listener) is { } l ? Conditions.Long(l, "port") : null;
            var first = obj is null ? null : StatusAddresses(obj).FirstOrDefault();
            if (port is null || first is null || first.Value.Length == 0)
            {
                return (false, port is null ? $"no listener {listener}" : "no status.addresses");
            }

            address = first.Value.Contains(':', StringComparison.Ordinal) ? $"[{first.Value}]:{port}" : string.Create(CultureInfo.InvariantCulture, $"{first.Value}:{port}");
            return (true, "");
        }, t.Ct).ConfigureAwait(false);
        return address!;
    }

    private static async Task RemoveAddressAsync(TestContext t, NN gw, string value)
    {
        t.Log($"patching Gateway {gw} to remove the address {value}");
        await t.Kube.UpdateAsync(Kinds.Gateway, gw.Namespace, gw.Name, g =>
        {
            var kept = SpecAddresses(g).Where(a => a.Value != value).Select(a => (JsonNode)new JsonObject { ["type"] = a.Type, ["value"] = a.Value });
            g["spec"]!["addresses"] = new JsonArray([.. kept]);
        }, t.Ct).ConfigureAwait(false);
    }

    private static List<NetworkAddress> SpecAddresses(JsonObject gateway) =>
        [.. (gateway["spec"]?["addresses"] as JsonArray ?? []).Select(a => new NetworkAddress(Conditions.Str(a, "type") ?? "IPAddress", Conditions.Str(a, "value") ?? ""))];

    private static List<NetworkAddress> StatusAddresses(JsonObject gateway) =>
        [.. (gateway["status"]?["addresses"] as JsonArray ?? []).Select(a => new NetworkAddress(Conditions.Str(a, "type") ?? "IPAddress", Conditions.Str(a, "value") ?? ""))];

    private static Dictionary<string, string> StringMap(JsonNode? node) =>
        (node as JsonObject ?? []).Where(kv => kv.Value is JsonValue).ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>(), StringComparer.Ordinal);

    private static void MustContain(string what, Dictionary<string, string> actual, Dictionary<string, string> expected)
    {
        var missing = expected.Where(kv => !actual.TryGetValue(kv.Key, out var v) || v != kv.Value).Select(kv => $"{kv.Key}={kv.Value}").ToList();
        if (missing.Count > 0)
        {
            throw new ConformanceException($"expected {what} [{string.Join(", ", actual.Select(kv => $"{kv.Key}={kv.Value}"))}] to contain all Gateway infrastructure entries; missing {string.Join(", ", missing)}");
        }
    }
}
