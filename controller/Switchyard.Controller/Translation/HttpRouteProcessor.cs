using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Switchyard.Api.GatewayApi;
using Switchyard.Ir;

namespace Switchyard.Controller.Translation;

/// <summary>Translates HTTPRoutes: validates rules, resolves backends, attaches to listeners, writes parent statuses.</summary>
/// <remarks>
/// Steps per route: 1. Translate every rule to IR, collecting unsupported values and unresolved references.
/// 2. For every parentRef naming one of our Gateways, attach to listeners and set Accepted, ResolvedRefs and
/// PartiallyInvalid. 3. Add the valid rules' matches to each attached listener under each intersected hostname.
/// </remarks>
internal sealed class HttpRouteProcessor : ITranslationProcessor
{
    private static readonly string[] Methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

    /// <summary>The CRD's CORSOrigin pattern: <c>*</c>, or <c>http(s)://host[:port]</c> whose host may start with <c>*.</c> or be <c>*</c>.</summary>
    private static readonly Regex CorsOrigin = new(@"^(\*|https?://((\*\.)?([a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+|\*)(:[0-9]{1,5})?)$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));

    /// <summary>The CRD's HTTPHeaderName pattern (an RFC 9110 token).</summary>
    private static readonly Regex HeaderName = new(@"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));

    /// <summary>Retries of a policy that leaves <c>attempts</c> unset (implementation-specific in GEP-1731).</summary>
    private const int DefaultRetryAttempts = 1;

    /// <summary>Wait between tries of a policy that leaves <c>backoff</c> unset (implementation-specific in GEP-1731).</summary>
    private static readonly TimeSpan DefaultRetryBackoff = TimeSpan.FromMilliseconds(25);

    public void Run(TranslationContext context)
    {
        foreach (var route in context.Snapshot.HttpRoutes)
        {
            var ns = route.Metadata.Namespace ?? "";
            var routeName = $"httproute/{ns}/{route.Metadata.Name}";
            var generation = route.Metadata.Generation;

            // :: Step 1
            var rules = route.Spec.Rules is { Count: > 0 } r ? r : [new HttpRouteRule()];
            var translated = new List<(int Index, HttpRouteRule Rule, List<HttpRouteIr> Matches)>();
            string? invalidMessage = null;
            string? refReason = null, refMessage = null;
            var reached = new HashSet<PolicyTarget>();
            for (var i = 0; i < rules.Count; i++)
            {
                var problems = new List<string>();
                var irs = TranslateRule(context, route, routeName, i, rules[i], problems, reached, ref refReason, ref refMessage);
                if (problems.Count > 0)
                {
                    invalidMessage ??= $"rule {i}: {problems[0]}";
                }
                else
                {
                    translated.Add((i, rules[i], irs));
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
                foreach (var target in reached)
                {
                    // The Gateway reaches these Service ports through this route (directly or through one of its
                    // ListenerSets): it is an ancestor of their policies.
                    context.Policies.Reached(target, parent.Gateway);
                }

                var attachment = Attachment.Attach(context, parent, parentRef, ns, GatewayProcessor.HttpRouteKind, route.Spec.Hostnames);
                parents.Add(Attachment.ParentStatus(context, parentRef, generation, attachment, translated.Count, invalidMessage, refReason, refMessage));

                if (attachment.Reason is not null || translated.Count == 0)
                {
                    continue;
                }

                // :: Step 3
                foreach (var (listener, hostnames) in attachment.Attached)
                {
                    listener.Attach(routeName);
                    foreach (var (index, rule, matches) in translated)
                    {
                        var specMatches = rule.Matches is { Count: > 0 } m ? m : [new HttpRouteMatch()];
                        for (var j = 0; j < matches.Count; j++)
                        {
                            var order = Order(route, index, j, specMatches[j], matches[j]);
                            foreach (var host in hostnames)
                            {
                                if (!listener.HttpRoutes.TryGetValue(host, out var list))
                                {
                                    listener.HttpRoutes[host] = list = [];
                                }

                                if (!list.Exists(e => e.Route.Name == matches[j].Name))
                                {
                                    list.Add((order, matches[j]));
                                }
                            }
                        }
                    }
                }
            }

            if (ours)
            {
                context.HttpRouteStatuses.Add(new(ns, route.Metadata.Name ?? "", generation, new RouteStatus { Parents = parents }));
            }
        }
    }

    private static RouteOrder Order(HttpRoute route, int rule, int match, HttpRouteMatch spec, HttpRouteIr ir) => new(
        ir.Match.Path.Type switch { PathMatchType.Exact => 0, PathMatchType.PathPrefix => 1, _ => 2 },
        ir.Match.Path.Value.Length,
        ir.Match.Method is null ? 1 : 0,
        spec.Headers?.Count ?? 0,
        spec.QueryParams?.Count ?? 0,
        route.Metadata.CreationTimestamp ?? DateTimeOffset.MinValue,
        $"{route.Metadata.Namespace}/{route.Metadata.Name}",
        rule,
        match);

    private static List<HttpRouteIr> TranslateRule(TranslationContext context, HttpRoute route, string routeName, int index, HttpRouteRule rule, List<string> problems, HashSet<PolicyTarget> reached, ref string? refReason, ref string? refMessage)
    {
        var ns = route.Metadata.Namespace ?? "";
        var filters = TranslateFilters(context, ns, rule.Filters, problems, reached, ref refReason, ref refMessage, out var mirrors);

        TimeSpan? requestTimeout = null, backendTimeout = null;
        if (rule.Timeouts?.Request is { } rt)
        {
            requestTimeout = Durations.TryParse(rt, out var t) ? t : Problem<TimeSpan?>(problems, $"timeouts.request '{rt}' is not a Gateway API duration");
        }

        if (rule.Timeouts?.BackendRequest is { } bt)
        {
            backendTimeout = Durations.TryParse(bt, out var t) ? t : Problem<TimeSpan?>(problems, $"timeouts.backendRequest '{bt}' is not a Gateway API duration");
        }

        var retry = rule.Retry is { } retrySpec ? TranslateRetry(retrySpec, problems) : null;

        var backends = ImmutableArray.CreateBuilder<HttpBackendIr>();
        foreach (var backendRef in rule.BackendRefs ?? [])
        {
            var resolution = Backends.Resolve(context.Snapshot, GatewayApiNames.Group, "HTTPRoute", ns, backendRef, backendRef.Weight ?? 1);
            if (!resolution.Resolved && refReason is null)
            {
                refReason = resolution.Reason;
                refMessage = resolution.Message;
            }

            var backendFilters = TranslateFilters(context, ns, backendRef.Filters, problems, reached, ref refReason, ref refMessage, out var backendMirrors);
            if (backendFilters.Redirect is not null || backendFilters.Rewrite is not null || backendFilters.Cors is not null || backendMirrors.Length > 0)
            {
                problems.Add("backendRefs[].filters support only RequestHeaderModifier and ResponseHeaderModifier");
            }

            var backend = resolution.Backend;
            var refused = false;
            if (resolution.Resolved && BackendTlsPolicies.TargetOf(context.Snapshot, ns, backendRef) is { } target)
            {
                reached.Add(target);
                if (context.Policies.For(target) is { } policy)
                {
                    // A policy without a usable CA refuses its backend (500) rather than letting it be reached in the clear.
                    backend = backend with { Tls = policy.Tls };
                    refused = policy.Tls is null;
                }
            }

            backends.Add(new HttpBackendIr
            {
                Backend = backend,
                Invalid = !resolution.Resolved || refused,
                RequestHeaders = backendFilters.RequestHeaders,
                ResponseHeaders = backendFilters.ResponseHeaders,
            });
        }

        if (filters.Redirect is not null && backends.Count > 0)
        {
            problems.Add("RequestRedirect cannot be combined with backendRefs");
        }

        int? direct = null;
        if (filters.Redirect is null && (backends.Count == 0 || backends.Sum(b => b.Backend.Weight) == 0))
        {
            // No backend can take the request: Gateway API requires a 500.
            direct = 500;
        }

        var result = new List<HttpRouteIr>();
        var matches = rule.Matches is { Count: > 0 } m ? m : [new HttpRouteMatch()];
        for (var j = 0; j < matches.Count; j++)
        {
            var match = TranslateMatch(matches[j], problems);
            if ((filters.Redirect?.Path ?? filters.Rewrite?.Path) is { Type: PathModifierType.ReplacePrefixMatch } && match.Path.Type != PathMatchType.PathPrefix)
            {
                problems.Add("ReplacePrefixMatch needs a PathPrefix match");
            }

            result.Add(new HttpRouteIr
            {
                Name = $"{routeName}/rule/{index}/match/{j}",
                Match = match,
                RequestHeaders = filters.RequestHeaders,
                ResponseHeaders = filters.ResponseHeaders,
                Redirect = filters.Redirect,
                Rewrite = filters.Rewrite,
                Mirrors = mirrors,
                Backends = backends.ToImmutable(),
                DirectResponseStatus = direct,
                RequestTimeout = requestTimeout,
                BackendRequestTimeout = backendTimeout,
                Cors = filters.Cors,
                Retry = retry,
            });
        }

        return result;
    }

    /// <summary>
    /// The retry policy of a rule (GEP-1731). Unset attempts and backoff are implementation-specific; Switchyard
    /// retries once after <see cref="DefaultRetryBackoff"/>, the base interval Envoy uses, so a policy that only names
    /// codes still does something and a failing backend is not hit back-to-back.
    /// </summary>
    private static RetryIr TranslateRetry(HttpRouteRetry retry, List<string> problems)
    {
        var codes = new SortedSet<int>();
        foreach (var code in retry.Codes ?? [])
        {
            // The CRD bounds codes to 400..599 (only errors are retried); a copy of the CRD without that check must
            // not reach the data plane's validator.
            if (code is < 400 or > 599)
            {
                problems.Add($"retry.codes {code} is not within 400-599");
                continue;
            }

            codes.Add(code);
        }

        var attempts = DefaultRetryAttempts;
        if (retry.Attempts is { } a)
        {
            attempts = a >= 0 ? a : Problem(problems, $"retry.attempts {a} must not be negative", 0);
        }

        var backoff = DefaultRetryBackoff;
        if (retry.Backoff is { } b)
        {
            backoff = Durations.TryParse(b, out var t) ? t : Problem(problems, $"retry.backoff '{b}' is not a Gateway API duration", TimeSpan.Zero);
        }

        return new RetryIr { Codes = [.. codes], Attempts = attempts, Backoff = backoff };
    }

    private static HttpMatchIr TranslateMatch(HttpRouteMatch match, List<string> problems)
    {
        var pathType = match.Path?.Type ?? "PathPrefix";
        var value = match.Path?.Value ?? "/";
        var type = pathType switch
        {
            "Exact" => PathMatchType.Exact,
            "PathPrefix" => PathMatchType.PathPrefix,
            "RegularExpression" => PathMatchType.RegularExpression,
            _ => Problem(problems, $"path type {pathType} is not supported", PathMatchType.PathPrefix),
        };
        if (type == PathMatchType.RegularExpression)
        {
            CheckRegex(value, problems);
        }
        else if (!value.StartsWith('/'))
        {
            problems.Add($"path '{value}' must start with '/'");
        }

        if (match.Method is { } method && Array.IndexOf(Methods, method) < 0)
        {
            problems.Add($"method {method} is not supported");
        }

        return new HttpMatchIr
        {
            Path = new PathMatchIr { Type = type, Value = value },
            Method = match.Method,
            Headers = StringMatches(match.Headers?.Select(h => (h.Name, h.Type, h.Value)), problems, StringComparer.OrdinalIgnoreCase),
            QueryParams = StringMatches(match.QueryParams?.Select(q => (q.Name, q.Type, q.Value)), problems, StringComparer.Ordinal),
        };
    }

    private static ImmutableArray<StringMatchIr> StringMatches(IEnumerable<(string Name, string? Type, string Value)>? items, List<string> problems, StringComparer comparer)
    {
        var result = new List<StringMatchIr>();
        foreach (var (name, typeName, value) in items ?? [])
        {
            var type = typeName switch
            {
                null or "Exact" => StringMatchType.Exact,
                "RegularExpression" => StringMatchType.RegularExpression,
                _ => Problem(problems, $"match type {typeName} is not supported", StringMatchType.Exact),
            };
            if (type == StringMatchType.RegularExpression)
            {
                CheckRegex(value, problems);
            }

            // Gateway API: of several matches on the same name only the first counts.
            if (!result.Exists(r => comparer.Equals(r.Name, name)))
            {
                result.Add(new StringMatchIr { Name = name, Type = type, Value = value });
            }
        }

        return [.. result.OrderBy(r => r.Name, StringComparer.Ordinal)];
    }

    private sealed record Filters(HeaderModifierIr? RequestHeaders, HeaderModifierIr? ResponseHeaders, RedirectIr? Redirect, UrlRewriteIr? Rewrite, CorsIr? Cors);

    private static Filters TranslateFilters(TranslationContext context, string ns, List<HttpRouteFilter>? specs, List<string> problems, HashSet<PolicyTarget> reached, ref string? refReason, ref string? refMessage, out ImmutableArray<MirrorIr> mirrors)
    {
        HeaderModifierIr? request = null, response = null;
        RedirectIr? redirect = null;
        UrlRewriteIr? rewrite = null;
        CorsIr? cors = null;
        var mirrorList = ImmutableArray.CreateBuilder<MirrorIr>();
        foreach (var filter in specs ?? [])
        {
            switch (filter.Type)
            {
                case "RequestHeaderModifier" when filter.RequestHeaderModifier is { } h:
                    request ??= Headers(h);
                    break;
                case "ResponseHeaderModifier" when filter.ResponseHeaderModifier is { } h:
                    response ??= Headers(h);
                    break;
                case "RequestRedirect" when filter.RequestRedirect is { } rr:
                    if (rr.StatusCode is { } code && code is not (301 or 302 or 303 or 307 or 308))
                    {
                        problems.Add($"redirect statusCode {code} is not supported");
                    }

                    if (rr.Scheme is { } scheme && scheme is not ("http" or "https"))
                    {
                        problems.Add($"redirect scheme {scheme} is not supported");
                    }

                    redirect ??= new RedirectIr
                    {
                        Scheme = rr.Scheme,
                        Hostname = rr.Hostname,
                        Port = rr.Port,
                        Path = PathModifier(rr.Path, problems),
                        StatusCode = rr.StatusCode ?? 302,
                    };
                    break;
                case "CORS" when filter.Cors is { } c:
                    cors ??= Cors(c, problems);
                    break;
                case "URLRewrite" when filter.UrlRewrite is { } uw:
                    rewrite ??= new UrlRewriteIr { Hostname = uw.Hostname, Path = PathModifier(uw.Path, problems) };
                    break;
                case "RequestMirror" when filter.RequestMirror is { } mirror:
                    var resolution = Backends.Resolve(context.Snapshot, GatewayApiNames.Group, "HTTPRoute", ns, mirror.BackendRef, 1);
                    if (!resolution.Resolved)
                    {
                        if (refReason is null)
                        {
                            refReason = resolution.Reason;
                            refMessage = resolution.Message;
                        }

                        break;
                    }

                    var mirrorBackend = resolution.Backend;
                    if (BackendTlsPolicies.TargetOf(context.Snapshot, ns, mirror.BackendRef) is { } target)
                    {
                        // A copy goes to its backend as a request would: under the Service port's BackendTLSPolicy.
                        reached.Add(target);
                        if (context.Policies.For(target) is { } policy)
                        {
                            if (policy.Tls is null)
                            {
                                // The policy has no usable CA: the copy is not sent rather than sent in the clear.
                                break;
                            }

                            mirrorBackend = mirrorBackend with { Tls = policy.Tls };
                        }
                    }

                    var (num, den) = mirror.Fraction is { } f ? (f.Numerator, f.Denominator ?? 100) : (mirror.Percent ?? 100, 100);
                    mirrorList.Add(new MirrorIr { Backend = mirrorBackend, Numerator = num, Denominator = den });
                    break;
                default:
                    problems.Add($"filter type {filter.Type} is not supported or has no configuration");
                    break;
            }
        }

        mirrors = mirrorList.ToImmutable();
        return new Filters(request, response, redirect, rewrite, cors);
    }

    /// <summary>Checks a CORS filter against the CRD's rules (the file provider has no admission) and builds its IR.</summary>
    private static CorsIr Cors(HttpCorsFilter c, List<string> problems)
    {
        var origins = List("allowOrigins", c.AllowOrigins, o => CorsOrigin.IsMatch(o) && Port(o) is >= 1 and <= 65535, "is not '*' or http(s)://host[:port]");
        var methods = List("allowMethods", c.AllowMethods, m => m == CorsIr.Wildcard || Array.IndexOf(Methods, m) >= 0, "is not an HTTP method or '*'");
        var headers = List("allowHeaders", c.AllowHeaders, h => HeaderName.IsMatch(h), "is not a header name");
        var expose = List("exposeHeaders", c.ExposeHeaders, h => HeaderName.IsMatch(h), "is not a header name");
        if (c.MaxAge is <= 0)
        {
            problems.Add($"CORS maxAge {c.MaxAge} must be at least 1");
        }

        return new CorsIr
        {
            AllowOrigins = origins,
            AllowMethods = methods,
            AllowHeaders = headers,
            ExposeHeaders = expose,
            AllowCredentials = c.AllowCredentials == true,
            MaxAgeSeconds = c.MaxAge is > 0 and var age ? age : CorsIr.DefaultMaxAgeSeconds,
        };

        ImmutableArray<string> List(string field, List<string>? values, Func<string, bool> valid, string why)
        {
            var items = values ?? [];
            foreach (var value in items.Where(v => !valid(v)))
            {
                problems.Add($"CORS {field} value '{value}' {why}");
            }

            if (items.Contains(CorsIr.Wildcard) && items.Count > 1)
            {
                problems.Add($"CORS {field} cannot hold '*' alongside other values");
            }

            // The CRD lists are sets: a repeated value says nothing new.
            return [.. items.Distinct(StringComparer.Ordinal)];
        }

        // The port of an origin (absent: 1, always valid), so that ':99999' fails as the CRD's 1-65535 says.
        static int Port(string origin)
        {
            var colon = origin.LastIndexOf(':');
            return colon > origin.IndexOf("//", StringComparison.Ordinal) && int.TryParse(origin.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out var port) ? port : 1;
        }
    }

    private static HeaderModifierIr Headers(HttpHeaderFilter h) => new()
    {
        Set = [.. (h.Set ?? []).Select(v => new HeaderValueIr { Name = v.Name, Value = v.Value })],
        Add = [.. (h.Add ?? []).Select(v => new HeaderValueIr { Name = v.Name, Value = v.Value })],
        Remove = [.. h.Remove ?? []],
    };

    private static PathModifierIr? PathModifier(HttpPathModifier? p, List<string> problems) => p?.Type switch
    {
        null => null,
        "ReplaceFullPath" when p.ReplaceFullPath is { } v => new PathModifierIr { Type = PathModifierType.ReplaceFullPath, Value = v },
        "ReplacePrefixMatch" when p.ReplacePrefixMatch is { } v => new PathModifierIr { Type = PathModifierType.ReplacePrefixMatch, Value = v },
        _ => Problem<PathModifierIr?>(problems, $"path modifier {p.Type} is not supported or has no value"),
    };

    private static void CheckRegex(string pattern, List<string> problems)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        }
        catch (ArgumentException)
        {
            problems.Add($"regular expression '{pattern}' is invalid");
        }
    }

    private static T? Problem<T>(List<string> problems, string message, T? value = default)
    {
        problems.Add(message);
        return value;
    }
}
