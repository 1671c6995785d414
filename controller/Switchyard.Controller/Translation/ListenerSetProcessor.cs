using Switchyard.Api.GatewayApi;

namespace Switchyard.Controller.Translation;

/// <summary>
/// Merges ListenerSets into their parent Gateways (GEP-1713): the Gateway's <c>allowedListeners</c> decides which
/// may attach, each listener is validated like a Gateway's own, and conflicts are settled by precedence.
/// </summary>
/// <remarks>
/// Steps: 1. Order the ListenerSets by precedence: oldest <c>creationTimestamp</c> first, then namespace/name
/// (GEP-1713 "Listener Precedence"). 2. Per ListenerSet naming one of our Gateways: refuse it when the Gateway is
/// not accepted (ParentNotAccepted) or does not allow its namespace (NotAllowed). 3. Validate its listeners.
/// 4. Settle conflicts: a listener loses to any listener of higher precedence on the same port that has another
/// protocol (ProtocolConflict) or the same protocol and hostname (HostnameConflict); the Gateway's own listeners
/// always come first. 5. A ListenerSet with no usable listener is not accepted (ListenersNotValid).
/// </remarks>
internal sealed class ListenerSetProcessor : ITranslationProcessor
{
    public void Run(TranslationContext context)
    {
        // :: Step 1
        var ordered = context.Snapshot.ListenerSets
            .OrderBy(s => s.Metadata.CreationTimestamp ?? DateTimeOffset.MinValue)
            .ThenBy(s => s.Metadata.Namespace ?? "", StringComparer.Ordinal)
            .ThenBy(s => s.Metadata.Name ?? "", StringComparer.Ordinal);

        // Winners per Gateway: listeners that already hold their port/protocol/hostname.
        var winners = new Dictionary<GatewayState, List<ListenerState>>();
        foreach (var set in ordered)
        {
            var ns = set.Metadata.Namespace ?? "";
            var parentRef = set.Spec.ParentRef;
            if ((parentRef.Group ?? GatewayApiNames.Group) != GatewayApiNames.Group || (parentRef.Kind ?? "Gateway") != "Gateway")
            {
                continue;
            }

            if (context.FindGateway(string.IsNullOrEmpty(parentRef.Namespace) ? ns : parentRef.Namespace, parentRef.Name) is not { } gateway)
            {
                // Not one of our Gateways: another controller's business.
                continue;
            }

            var state = new ListenerSetState(set, gateway);
            gateway.ListenerSets.Add(state);

            // :: Step 2
            if (!gateway.Accepted)
            {
                Refuse(state, Cond.ParentNotAccepted, $"Gateway {gateway.Namespace}/{gateway.Name} is not accepted");
                continue;
            }

            if (!Allowed(context, gateway, ns))
            {
                Refuse(state, Cond.NotAllowed, $"Gateway {gateway.Namespace}/{gateway.Name} does not allow ListenerSets from namespace {ns}");
                continue;
            }

            // :: Step 3
            foreach (var listener in state.Listeners)
            {
                GatewayProcessor.ValidateListener(context, gateway, "ListenerSet", listener);
            }

            // :: Step 4
            if (!winners.TryGetValue(gateway, out var held))
            {
                winners[gateway] = held = gateway.Listeners.Where(l => l.Usable).ToList();
            }

            foreach (var listener in state.Listeners.Where(l => l.Usable))
            {
                if (Conflict(held, listener) is { } reason)
                {
                    listener.Usable = false;
                    var message = reason == Cond.ProtocolConflict
                        ? $"port {listener.Listener.Port} is already used with another protocol by a listener of higher precedence"
                        : $"a listener of higher precedence already serves this hostname on port {listener.Listener.Port}";
                    listener.Conditions.Set(Cond.Accepted, false, reason, message);
                    listener.Conditions.Set(Cond.Programmed, false, reason, message);
                    listener.Conditions.Set(Cond.Conflicted, true, reason, message);
                }
                else
                {
                    held.Add(listener);
                }
            }

            // :: Step 5
            if (state.Listeners.TrueForAll(l => !l.Usable))
            {
                state.Conditions.Set(Cond.Accepted, false, Cond.ListenersNotValid, "no listener is valid");
                state.Conditions.Set(Cond.Programmed, false, Cond.ListenersNotValid, "no listener is valid");
            }
            else
            {
                state.Accepted = true;
            }
        }
    }

    /// <summary>The Gateway's <c>allowedListeners</c>; without it no ListenerSet may attach (From defaults to None).</summary>
    private static bool Allowed(TranslationContext context, GatewayState gateway, string ns)
    {
        var from = gateway.Gateway.Spec.AllowedListeners?.Namespaces;
        return (from?.From ?? "None") switch
        {
            "All" => true,
            "Same" => ns == gateway.Namespace,
            "Selector" => from?.Selector is { } selector && References.Matches(selector, context.Snapshot.NamespaceLabels(ns)),
            _ => false,
        };
    }

    private static void Refuse(ListenerSetState state, string reason, string message)
    {
        state.ReportListeners = false;
        state.Conditions.Set(Cond.Accepted, false, reason, message);
        state.Conditions.Set(Cond.Programmed, false, reason, message);
    }

    private static string? Conflict(List<ListenerState> held, ListenerState listener)
    {
        var port = listener.Listener.Port;
        var onPort = held.Where(h => h.Listener.Port == port).ToList();
        if (onPort.Exists(h => h.Listener.Protocol != listener.Listener.Protocol))
        {
            return Cond.ProtocolConflict;
        }

        var hostname = (listener.Listener.Hostname ?? "").ToLowerInvariant();
        return onPort.Exists(h => (h.Listener.Hostname ?? "").ToLowerInvariant() == hostname) ? Cond.HostnameConflict : null;
    }
}
