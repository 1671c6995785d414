using System.Collections.Immutable;
using System.Text;
using Switchyard.Api.GatewayApi;
using Switchyard.Api.WebTransport;
using Switchyard.Ir;

namespace Switchyard.Controller.Translation;

/// <summary>Translates WebTransportRoutes: validates rules, resolves backends, attaches to HTTPS listeners.</summary>
/// <remarks>
/// Steps per route: 1. Translate every rule (matches, delivery, backends). 2. For every parentRef naming one of
/// our Gateways, attach and set Accepted, ResolvedRefs and PartiallyInvalid. 3. Add the route to each attached
/// listener with its intersected hostnames (empty when any host is accepted).
/// </remarks>
internal sealed class WebTransportRouteProcessor : ITranslationProcessor
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DefaultBackoff = TimeSpan.FromMilliseconds(100);

    public void Run(TranslationContext context)
    {
        foreach (var route in context.Snapshot.WebTransportRoutes)
        {
            var ns = route.Metadata.Namespace ?? "";
            var routeName = $"webtransportroute/{ns}/{route.Metadata.Name}";
            var generation = route.Metadata.Generation;

            // :: Step 1
            var rules = route.Spec.Rules ?? [];
            var translated = ImmutableArray.CreateBuilder<WebTransportRuleIr>();
            string? invalidMessage = rules.Count == 0 ? "route has no rules" : null;
            string? refReason = null, refMessage = null;
            for (var i = 0; i < rules.Count; i++)
            {
                var problems = new List<string>();
                var rule = TranslateRule(context, ns, $"{routeName}/rule/{i}", rules[i], problems, ref refReason, ref refMessage);
                if (problems.Count > 0)
                {
                    invalidMessage ??= $"rule {i}: {problems[0]}";
                }
                else
                {
                    translated.Add(rule);
                }
            }

            // :: Step 2
            var parents = new List<RouteParentStatus>();
            var ours = route.Status?.Parents.Exists(s => s.ControllerName == context.Options.ControllerName) == true;
            foreach (var parentRef in route.Spec.ParentRefs ?? [])
            {
                if (Attachment.Resolve(context, parentRef, ns) is not { } parent)
                {
                    continue;
                }

                ours = true;
                var attachment = Attachment.Attach(context, parent, parentRef, ns, GatewayProcessor.WebTransportRouteKind, route.Spec.Hostnames);
                parents.Add(Attachment.ParentStatus(context, parentRef, generation, attachment, translated.Count, invalidMessage, refReason, refMessage));

                if (attachment.Reason is not null || translated.Count == 0)
                {
                    continue;
                }

                // :: Step 3
                foreach (var (listener, hostnames) in attachment.Attached)
                {
                    listener.Attach(routeName);
                    if (listener.WebTransportRoutes.Exists(e => e.Route.Name == routeName))
                    {
                        continue;
                    }

                    var ir = new WebTransportRouteIr
                    {
                        Name = routeName,
                        Hostnames = hostnames is ["*"] ? [] : [.. hostnames.Order(StringComparer.Ordinal)],
                        Rules = translated.ToImmutable(),
                    };
                    var order = new RouteOrder(0, 0, 0, 0, 0, route.Metadata.CreationTimestamp ?? DateTimeOffset.MinValue, $"{ns}/{route.Metadata.Name}", 0, 0);
                    listener.WebTransportRoutes.Add((order, ir));
                }
            }

            if (ours)
            {
                context.WebTransportRouteStatuses.Add(new(ns, route.Metadata.Name ?? "", generation, new RouteStatus { Parents = parents }));
            }
        }
    }

    private static WebTransportRuleIr TranslateRule(TranslationContext context, string ns, string name, WebTransportRouteRule rule, List<string> problems, ref string? refReason, ref string? refMessage)
    {
        var matches = ImmutableArray.CreateBuilder<WebTransportMatchIr>();
        foreach (var m in rule.Matches ?? [])
        {
            PathMatchIr? path = null;
            if (m.Path is { } p)
            {
                var value = p.Value ?? "/";
                var type = (p.Type ?? "PathPrefix") switch
                {
                    "Exact" => PathMatchType.Exact,
                    "PathPrefix" => PathMatchType.PathPrefix,
                    var other => Problem(problems, $"session path type {other} is not supported; use Exact or PathPrefix", PathMatchType.PathPrefix),
                };
                if (!value.StartsWith('/'))
                {
                    problems.Add($"session path '{value}' must start with '/'");
                }

                path = new PathMatchIr { Type = type, Value = value };
            }

            if (m.TrackType is { } trackType && (trackType.Length is 0 or > 12 || trackType.Any(c => c is < (char)0x21 or > (char)0x7e)))
            {
                problems.Add($"trackType '{trackType}' must be 1-12 printable ASCII characters (the track header's field size)");
            }

            TrackIdMatchIr? trackId = null;
            if (m.TrackId is { } id)
            {
                var type = (id.Type ?? "Exact") switch
                {
                    "Exact" => TrackIdMatchType.Exact,
                    "Prefix" => TrackIdMatchType.Prefix,
                    var other => Problem(problems, $"trackId type {other} is not supported; use Exact or Prefix", TrackIdMatchType.Exact),
                };
                if (id.Value.Length == 0 || Encoding.UTF8.GetByteCount(id.Value) > 16 || id.Value.Contains('\0', StringComparison.Ordinal))
                {
                    problems.Add($"trackId value '{id.Value}' must be 1-16 UTF-8 bytes without NUL (the track header's field size)");
                }

                trackId = new TrackIdMatchIr { Type = type, Value = id.Value };
            }

            matches.Add(new WebTransportMatchIr { Path = path, TrackType = m.TrackType, TrackId = trackId });
        }

        var delivery = rule.Delivery;
        var mode = (delivery?.Mode ?? "Message") switch
        {
            "Message" => DeliveryMode.Message,
            "Stream" => DeliveryMode.Stream,
            var other => Problem(problems, $"delivery mode {other} is not supported; use Message or Stream", DeliveryMode.Message),
        };
        var deliveryPath = delivery?.Path ?? "/";
        if (!deliveryPath.StartsWith('/'))
        {
            problems.Add($"delivery path '{deliveryPath}' must start with '/'");
        }

        var timeout = Duration(delivery?.Timeout, DefaultTimeout, "delivery.timeout", problems);
        if (timeout <= TimeSpan.Zero)
        {
            problems.Add("delivery.timeout must be positive");
        }

        var attempts = delivery?.Retry?.Attempts ?? 0;
        if (attempts is < 0 or > 10)
        {
            problems.Add($"delivery.retry.attempts {attempts} is outside 0-10");
        }

        var backoff = Duration(delivery?.Retry?.Backoff, DefaultBackoff, "delivery.retry.backoff", problems);

        var backends = ImmutableArray.CreateBuilder<WeightedBackendIr>();
        foreach (var backendRef in rule.BackendRefs ?? [])
        {
            var resolution = Backends.Resolve(context.Snapshot, SwitchyardApiNames.Group, SwitchyardApiNames.WebTransportRouteKind, ns, backendRef, backendRef.Weight ?? 1);
            if (resolution.Resolved && BackendTlsPolicies.TargetOf(context.Snapshot, ns, backendRef) is { } target && context.Policies.For(target) is { } policy)
            {
                // Deliveries cannot speak TLS to backends yet. A Service port that asks for TLS is left out, as an
                // unresolved one is, rather than reached in the clear; the route's status says why.
                if (refReason is null)
                {
                    refReason = Cond.UnsupportedProtocol;
                    refMessage = $"Service {target.Namespace}/{target.Service} port {backendRef.Port} requires TLS (BackendTLSPolicy {policy.Namespace}/{policy.Name}); WebTransportRoute deliveries do not support TLS to backends";
                }
            }
            else if (resolution.Resolved)
            {
                backends.Add(resolution.Backend);
            }
            else if (refReason is null)
            {
                refReason = resolution.Reason;
                refMessage = resolution.Message;
            }
        }

        return new WebTransportRuleIr
        {
            Name = name,
            Matches = matches.ToImmutable(),
            Backends = backends.ToImmutable(),
            Delivery = new DeliveryIr { Mode = mode, Path = deliveryPath, Timeout = timeout, RetryAttempts = attempts, RetryBackoff = backoff },
        };
    }

    private static TimeSpan Duration(string? text, TimeSpan fallback, string field, List<string> problems)
    {
        if (text is null)
        {
            return fallback;
        }

        if (Durations.TryParse(text, out var value))
        {
            return value;
        }

        problems.Add($"{field} '{text}' is not a Gateway API duration");
        return fallback;
    }

    private static T Problem<T>(List<string> problems, string message, T value)
    {
        problems.Add(message);
        return value;
    }
}
