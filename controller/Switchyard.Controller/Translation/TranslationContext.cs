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

    public List<GatewaySnapshot> Snapshots { get; } = [];

    /// <summary>The Service each accepted Gateway needs, in Gateway order.</summary>
    public List<GatewayInfrastructureIntent> Infrastructure { get; } = [];

    public GatewayState? FindGateway(string ns, string name) =>
        Gateways.Find(g => g.Gateway.Metadata.Namespace == ns && g.Gateway.Metadata.Name == name);
}

/// <summary>What the translation learns about one Gateway.</summary>
internal sealed class GatewayState
{
    public GatewayState(Gateway gateway)
    {
        Gateway = gateway;
        Conditions = new ConditionSet(gateway.Metadata.Generation);
        Listeners = gateway.Spec.Listeners.Select(l => new ListenerState(l, gateway.Metadata.Generation)).ToList();
    }

    public Gateway Gateway { get; }

    public string Namespace => Gateway.Metadata.Namespace ?? "";

    public string Name => Gateway.Metadata.Name ?? "";

    public ConditionSet Conditions { get; }

    public List<ListenerState> Listeners { get; }

    /// <summary>What the load balancer assigned to the Gateway (its <c>status.addresses</c>).</summary>
    public List<GatewayStatusAddress> Addresses { get; } = [];

    /// <summary>False when the Gateway itself is not accepted (routes cannot attach).</summary>
    public bool Accepted { get; set; } = true;
}

/// <summary>What the translation learns about one listener.</summary>
internal sealed class ListenerState
{
    public ListenerState(Listener listener, long? generation)
    {
        Listener = listener;
        Conditions = new ConditionSet(generation);
    }

    public Listener Listener { get; }

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
