using System.Collections.Immutable;
using Switchyard.Api.GatewayApi;
using Switchyard.Ir;

namespace Switchyard.Controller.Translation;

/// <summary>
/// Builds each accepted Gateway's snapshot from its usable listeners, validates it, and commits the Gateway and
/// listener statuses (Programmed follows the snapshot's validity; defaults fill every gap).
/// </summary>
internal sealed class StatusProcessor : ITranslationProcessor
{
    public void Run(TranslationContext context)
    {
        foreach (var gateway in context.Gateways)
        {
            if (gateway.Accepted)
            {
                var snapshot = Build(gateway);
                var errors = snapshot.Validate();
                if (errors.IsEmpty)
                {
                    context.Snapshots.Add(snapshot);
                }
                else
                {
                    gateway.Conditions.Set(Cond.Programmed, false, Cond.Invalid, "configuration is invalid: " + string.Join("; ", errors));
                }
            }

            var status = new GatewayStatus
            {
                Addresses = gateway.Addresses.Count > 0 ? [.. gateway.Addresses] : null,
                Conditions = gateway.Conditions.Commit(
                    (Cond.Accepted, true, Cond.Accepted, "Gateway is accepted"),
                    (Cond.Programmed, true, Cond.Programmed, "Gateway is programmed")),
                Listeners = gateway.Listeners.Select(ListenerStatusOf).ToList(),

                // Reported when ListenerSets are in play (allowed, or naming this Gateway), so Gateways that never
                // meet one keep the status they always had.
                AttachedListenerSets = gateway.Gateway.Spec.AllowedListeners is not null || gateway.ListenerSets.Count > 0
                    ? gateway.ListenerSets.Count(s => s.Accepted)
                    : null,
            };
            context.GatewayStatuses.Add(new(gateway.Namespace, gateway.Name, gateway.Gateway.Metadata.Generation, status));

            foreach (var set in gateway.ListenerSets)
            {
                if (set.Accepted && gateway.Conditions.StatusOf(Cond.Programmed) == Cond.False)
                {
                    set.Conditions.Set(Cond.Programmed, false, Cond.Invalid, "the parent Gateway is not programmed");
                }

                var setStatus = new ListenerSetStatus
                {
                    Conditions = set.Conditions.Commit(
                        (Cond.Accepted, true, Cond.Accepted, "ListenerSet is accepted"),
                        (Cond.Programmed, true, Cond.Programmed, "ListenerSet is programmed")),
                    Listeners = set.ReportListeners ? set.Listeners.Select(ListenerStatusOf).ToList() : null,
                };
                context.ListenerSetStatuses.Add(new(set.Namespace, set.Name, set.Set.Metadata.Generation, setStatus));
            }
        }

        context.ListenerSetStatuses.Sort((a, b) =>
            string.CompareOrdinal(a.Namespace, b.Namespace) is var c and not 0 ? c : string.CompareOrdinal(a.Name, b.Name));
    }

    private static ListenerStatus ListenerStatusOf(ListenerState l) => new()
    {
        Name = l.Listener.Name,
        SupportedKinds = l.SupportedKinds,
        AttachedRoutes = l.AttachedRoutes,
        Conditions = l.Conditions.Commit(
            (Cond.Accepted, true, Cond.Accepted, "listener is accepted"),
            (Cond.Programmed, true, Cond.Programmed, "listener is programmed"),
            (Cond.ResolvedRefs, true, Cond.ResolvedRefs, "all references are resolved"),
            (Cond.Conflicted, false, Cond.NoConflicts, "no conflicts")),
    };

    private static GatewaySnapshot Build(GatewayState gateway)
    {
        // A ListenerSet's usable listeners are served like the Gateway's own (GEP-1713).
        var listeners = gateway.AllListeners
            .Where(l => l.Usable)
            .Select(l => new ListenerIr
            {
                Name = l.Set is { } set
                    ? $"listenerset/{set.Namespace}/{set.Name}/listener/{l.Listener.Name}"
                    : $"gateway/{gateway.Namespace}/{gateway.Name}/listener/{l.Listener.Name}",
                Protocol = l.Listener.Protocol == "HTTPS" ? ListenerProtocol.Https : ListenerProtocol.Http,
                Port = l.Listener.Port,
                Hostname = string.IsNullOrEmpty(l.Listener.Hostname) ? null : l.Listener.Hostname,
                Tls = l.Tls,
                VirtualHosts = [.. l.HttpRoutes
                    .OrderBy(kv => kv.Key, Comparer<string>.Create(Hostnames.CompareSpecificity))
                    .Select(kv => new VirtualHostIr
                    {
                        Name = $"vhost/{kv.Key}",
                        Hostname = kv.Key,
                        Routes = [.. kv.Value.OrderBy(e => e.Order).Select(e => e.Route)],
                    })],
                WebTransportRoutes = [.. l.WebTransportRoutes.OrderBy(e => e.Order).Select(e => e.Route)],
            })
            .OrderBy(l => l.Port)
            .ThenBy(l => l.Name, StringComparer.Ordinal);

        return new GatewaySnapshot
        {
            Name = $"{gateway.Namespace}/{gateway.Name}",
            Listeners = [.. listeners],
            Addresses = [.. gateway.Addresses.Select(a => a.Value)],
            BackendClientCertificate = gateway.BackendClientCertificate,
        };
    }
}
