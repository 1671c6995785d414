using Switchyard.Api.GatewayApi;
using Switchyard.Controller.Providers;
using Switchyard.Ir;

namespace Switchyard.Controller.Translation;

/// <summary>One step of a translation, run in order over the shared context (Contour's DAG processors).</summary>
internal interface ITranslationProcessor
{
    void Run(TranslationContext context);
}

/// <summary>State shared by the processors of one translation.</summary>
internal sealed class TranslationContext
{
    public TranslationContext(ResourceSnapshot snapshot, TranslatorOptions options)
    {
        Snapshot = snapshot;
        Options = options;
    }

    public ResourceSnapshot Snapshot { get; }

    public TranslatorOptions Options { get; }

    /// <summary>Accepted GatewayClasses of this controller, by name.</summary>
    public Dictionary<string, GatewayClass> Classes { get; } = new(StringComparer.Ordinal);

    public List<ObjectStatus<GatewayClassStatus>> ClassStatuses { get; } = [];

    /// <summary>Gateways of our classes, in namespace/name order.</summary>
    public List<GatewayState> Gateways { get; } = [];

    public List<ObjectStatus<RouteStatus>> HttpRouteStatuses { get; } = [];

    public List<ObjectStatus<RouteStatus>> WebTransportRouteStatuses { get; } = [];

    public List<ObjectStatus<GatewayStatus>> GatewayStatuses { get; } = [];

    public List<ObjectStatus<ListenerSetStatus>> ListenerSetStatuses { get; } = [];

    public List<GatewaySnapshot> Snapshots { get; } = [];

    public List<ObjectStatus<PolicyStatus>> BackendTlsPolicyStatuses { get; } = [];

    /// <summary>The BackendTLSPolicies in force, by target Service port; filled by <see cref="BackendTlsPolicyProcessor"/>.</summary>
    public BackendTlsPolicies Policies { get; set; } = BackendTlsPolicies.Empty;

    /// <summary>The Service each accepted Gateway needs, in Gateway order.</summary>
    public List<GatewayInfrastructureIntent> Infrastructure { get; } = [];

    public GatewayState? FindGateway(string ns, string name) =>
        Gateways.Find(g => g.Gateway.Metadata.Namespace == ns && g.Gateway.Metadata.Name == name);

    /// <summary>A ListenerSet whose parent is one of our Gateways.</summary>
    public ListenerSetState? FindListenerSet(string ns, string name)
    {
        foreach (var gateway in Gateways)
        {
            if (gateway.ListenerSets.Find(s => s.Namespace == ns && s.Name == name) is { } found)
            {
                return found;
            }
        }

        return null;
    }
}

/// <summary>What the translation learns about one Gateway.</summary>
internal sealed class GatewayState
{
    public GatewayState(Gateway gateway)
    {
        Gateway = gateway;
        Conditions = new ConditionSet(gateway.Metadata.Generation);
        Listeners = gateway.Spec.Listeners.Select(l => new ListenerState(l, gateway.Metadata.Generation, Namespace)).ToList();
    }

    public Gateway Gateway { get; }

    public string Namespace => Gateway.Metadata.Namespace ?? "";

    public string Name => Gateway.Metadata.Name ?? "";

    public ConditionSet Conditions { get; }

    public List<ListenerState> Listeners { get; }

    /// <summary>
    /// The generated Service's name and the usable static addresses to pin on it, once <see cref="AddressProcessor"/>
    /// found the Gateway accepted; null when the Gateway gets no Service.
    /// </summary>
    public (string Name, IReadOnlyList<System.Net.IPAddress> Pinned)? Service { get; set; }

    /// <summary>What the load balancer assigned to the Gateway (its <c>status.addresses</c>).</summary>
    public List<GatewayStatusAddress> Addresses { get; } = [];

    /// <summary>False when the Gateway itself is not accepted (routes cannot attach).</summary>
    public bool Accepted { get; set; } = true;

    /// <summary>The client certificate for backends reached over TLS (<c>spec.tls.backend.clientCertificateRef</c>), when valid.</summary>
    public CertificateIr? BackendClientCertificate { get; set; }

    /// <summary>ListenerSets naming this Gateway as parent, in precedence order (oldest first, then namespace/name).</summary>
    public List<ListenerSetState> ListenerSets { get; } = [];

    /// <summary>The Gateway's own listeners, then those of its accepted ListenerSets in precedence order.</summary>
    public IEnumerable<ListenerState> AllListeners => Listeners.Concat(ListenerSets.Where(s => s.Accepted).SelectMany(s => s.Listeners));
}

/// <summary>What the translation learns about one ListenerSet whose parent is one of our Gateways.</summary>
internal sealed class ListenerSetState
{
    public ListenerSetState(ListenerSet set, GatewayState parent)
    {
        Set = set;
        Parent = parent;
        Conditions = new ConditionSet(set.Metadata.Generation);
        Listeners = set.Spec.Listeners.Select(l => new ListenerState(l, set.Metadata.Generation, Namespace, this)).ToList();
    }

    public ListenerSet Set { get; }

    public GatewayState Parent { get; }

    public string Namespace => Set.Metadata.Namespace ?? "";

    public string Name => Set.Metadata.Name ?? "";

    public ConditionSet Conditions { get; }

    public List<ListenerState> Listeners { get; }

    /// <summary>Allowed by the parent, the parent accepted, and at least one listener valid.</summary>
    public bool Accepted { get; set; }

    /// <summary>False when the listener statuses are left out (the set was refused as a whole).</summary>
    public bool ReportListeners { get; set; } = true;
}

/// <summary>What the translation learns about one listener.</summary>
internal sealed class ListenerState
{
    public ListenerState(Listener listener, long? generation, string ownerNamespace, ListenerSetState? set = null)
    {
        Listener = listener;
        Conditions = new ConditionSet(generation);
        OwnerNamespace = ownerNamespace;
        Set = set;
    }

    public Listener Listener { get; }

    /// <summary>Namespace of the object that declares the listener ("Same" in allowedRoutes, certificate refs).</summary>
    public string OwnerNamespace { get; }

    /// <summary>The ListenerSet that declares the listener, or null for the Gateway's own.</summary>
    public ListenerSetState? Set { get; }

    public ConditionSet Conditions { get; }

    public List<RouteGroupKind> SupportedKinds { get; } = [];

    /// <summary>Number of distinct routes attached (a route with two parentRefs to one listener counts once).</summary>
    public int AttachedRoutes => attachedRoutes.Count;

    private readonly HashSet<string> attachedRoutes = new(StringComparer.Ordinal);

    public void Attach(string route) => attachedRoutes.Add(route);

    /// <summary>Valid and not conflicted: routes may attach and it is programmed.</summary>
    public bool Usable { get; set; } = true;

    public TlsIr? Tls { get; set; }

    /// <summary>HTTP routes by hostname, with their precedence keys.</summary>
    public Dictionary<string, List<(RouteOrder Order, HttpRouteIr Route)>> HttpRoutes { get; } = new(StringComparer.Ordinal);

    public List<(RouteOrder Order, Ir.WebTransportRouteIr Route)> WebTransportRoutes { get; } = [];
}

/// <summary>Gateway API precedence of a flattened HTTP route match, smallest first.</summary>
internal readonly record struct RouteOrder(int PathRank, int PathLength, int MethodRank, int Headers, int QueryParams, DateTimeOffset Created, string Route, int Rule, int Match)
    : IComparable<RouteOrder>
{
    public int CompareTo(RouteOrder other)
    {
        var c = PathRank.CompareTo(other.PathRank);
        if (c == 0)
        {
            c = other.PathLength.CompareTo(PathLength);
        }

        if (c == 0)
        {
            c = MethodRank.CompareTo(other.MethodRank);
        }

        if (c == 0)
        {
            c = other.Headers.CompareTo(Headers);
        }

        if (c == 0)
        {
            c = other.QueryParams.CompareTo(QueryParams);
        }

        if (c == 0)
        {
            c = Created.CompareTo(other.Created);
        }

        if (c == 0)
        {
            c = string.CompareOrdinal(Route, other.Route);
        }

        if (c == 0)
        {
            c = Rule.CompareTo(other.Rule);
        }

        return c != 0 ? c : Match.CompareTo(other.Match);
    }
}
