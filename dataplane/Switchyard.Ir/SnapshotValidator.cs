using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;

namespace Switchyard.Ir;

/// <summary>Collects every invariant violation of a snapshot (never stops at the first).</summary>
internal static class SnapshotValidator
{
    /// <summary>Size of the track header's <c>track_type</c> field (DESIGN.md, the track header).</summary>
    internal const int TrackTypeFieldBytes = 12;

    /// <summary>Size of the track header's <c>track_id</c> field.</summary>
    internal const int TrackIdFieldBytes = 16;

    private static readonly int[] RedirectCodes = [301, 302, 303, 307, 308];

    public static ImmutableArray<string> Validate(GatewaySnapshot snapshot)
    {
        var errors = ImmutableArray.CreateBuilder<string>();
        if (string.IsNullOrEmpty(snapshot.Name))
        {
            errors.Add("snapshot: name is empty");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var protocolByPort = new Dictionary<int, ListenerProtocol>();
        var clientValidationByPort = new Dictionary<int, ClientValidationIr?>();
        foreach (var listener in snapshot.Listeners.NullToEmpty())
        {
            ValidateListener(listener, errors);

            // The client certificate is asked for during the handshake, before a listener is chosen by Host: one port
            // can only have one client validation.
            if (listener.Protocol == ListenerProtocol.Https)
            {
                var validation = listener.Tls?.ClientValidation;
                if (clientValidationByPort.TryGetValue(listener.Port, out var first) && first != validation)
                {
                    errors.Add($"{listener.Name}: HTTPS listeners on port {listener.Port} have different client certificate validation");
                }

                clientValidationByPort.TryAdd(listener.Port, validation);
            }
            if (!names.Add(listener.Name))
            {
                errors.Add($"{listener.Name}: duplicate listener name");
            }

            if (protocolByPort.TryGetValue(listener.Port, out var other) && other != listener.Protocol)
            {
                errors.Add($"{listener.Name}: port {listener.Port} is used by both HTTP and HTTPS listeners");
            }

            protocolByPort[listener.Port] = listener.Protocol;
        }

        if (snapshot.BackendClientCertificate is { } client && (client.CertificatePem.IsDefaultOrEmpty || client.PrivateKeyPem.IsDefaultOrEmpty))
        {
            errors.Add($"snapshot/{client.Name}: backend client certificate or key is empty");
        }

        return errors.ToImmutable();
    }

    private static void ValidateListener(ListenerIr listener, ImmutableArray<string>.Builder errors)
    {
        var at = string.IsNullOrEmpty(listener.Name) ? "listener/?" : listener.Name;
        if (string.IsNullOrEmpty(listener.Name))
        {
            errors.Add("listener: name is empty");
        }

        if (listener.Port is < 1 or > 65535)
        {
            errors.Add($"{at}: port {listener.Port} is outside 1-65535");
        }

        if (listener.Protocol == ListenerProtocol.Https)
        {
            if (listener.Tls is null || (listener.Tls.Certificates.IsDefaultOrEmpty && !listener.Tls.SuppliedByDataPlane))
            {
                errors.Add($"{at}: HTTPS listener has no certificate");
            }
        }
        else
        {
            if (listener.Tls is not null)
            {
                errors.Add($"{at}: HTTP listener has TLS material");
            }

            if (!listener.WebTransportRoutes.IsDefaultOrEmpty)
            {
                errors.Add($"{at}: WebTransport routes need an HTTPS listener");
            }
        }

        foreach (var cert in listener.Tls?.Certificates.NullToEmpty() ?? [])
        {
            if (cert.CertificatePem.IsDefaultOrEmpty || cert.PrivateKeyPem.IsDefaultOrEmpty)
            {
                errors.Add($"{at}/{cert.Name}: certificate or key is empty");
            }
        }

        if (listener.Tls?.ClientValidation is { } clientValidation)
        {
            if (clientValidation.CaCertificates.IsDefaultOrEmpty)
            {
                errors.Add($"{at}: client certificate validation has no CA certificate");
            }

            foreach (var ca in clientValidation.CaCertificates.NullToEmpty())
            {
                if (ca.CertificatePem.IsDefaultOrEmpty)
                {
                    errors.Add($"{at}/{ca.Name}: CA certificate is empty");
                }
            }

            if (!Enum.IsDefined(clientValidation.Mode))
            {
                errors.Add($"{at}: unknown client validation mode {(int)clientValidation.Mode}");
            }
        }

        var hosts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var vhost in listener.VirtualHosts.NullToEmpty())
        {
            if (!hosts.Add(vhost.Hostname))
            {
                errors.Add($"{at}/{vhost.Name}: duplicate virtual host {vhost.Hostname}");
            }

            var routeNames = new HashSet<string>(StringComparer.Ordinal);
            foreach (var route in vhost.Routes.NullToEmpty())
            {
                if (!routeNames.Add(route.Name))
                {
                    errors.Add($"{route.Name}: duplicate route name in {vhost.Name}");
                }

                ValidateHttpRoute(route, errors);
            }
        }

        var wtNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var route in listener.WebTransportRoutes.NullToEmpty())
        {
            if (!wtNames.Add(route.Name))
            {
                errors.Add($"{route.Name}: duplicate WebTransport route");
            }

            foreach (var rule in route.Rules.NullToEmpty())
            {
                ValidateWebTransportRule(rule, errors);
            }
        }
    }

    private static void ValidateHttpRoute(HttpRouteIr route, ImmutableArray<string>.Builder errors)
    {
        var at = route.Name;
        ValidatePath(at, route.Match.Path, errors);
        foreach (var header in route.Match.Headers.NullToEmpty().Concat(route.Match.QueryParams.NullToEmpty()))
        {
            if (string.IsNullOrEmpty(header.Name))
            {
                errors.Add($"{at}: header or query parameter match has no name");
            }

            if (header.Type == StringMatchType.RegularExpression)
            {
                ValidateRegex(at, header.Value, errors);
            }
        }

        if (route.Redirect is { } redirect)
        {
            if (Array.IndexOf(RedirectCodes, redirect.StatusCode) < 0)
            {
                errors.Add($"{at}: redirect status {redirect.StatusCode} is not one of 301, 302, 303, 307, 308");
            }

            if (redirect.Port is < 1 or > 65535)
            {
                errors.Add($"{at}: redirect port {redirect.Port} is outside 1-65535");
            }
        }

        var forwards = !route.Backends.IsDefaultOrEmpty;
        if (!forwards && route.Redirect is null && route.DirectResponseStatus is null)
        {
            errors.Add($"{at}: route neither forwards, redirects nor responds");
        }

        foreach (var backend in route.Backends.NullToEmpty())
        {
            ValidateBackend(backend.Backend, errors);
        }

        foreach (var mirror in route.Mirrors.NullToEmpty())
        {
            ValidateBackend(mirror.Backend, errors);
            if (mirror.Denominator <= 0 || mirror.Numerator < 0 || mirror.Numerator > mirror.Denominator)
            {
                errors.Add($"{at}: mirror fraction {mirror.Numerator}/{mirror.Denominator} is not within 0..1");
            }
        }

        if (route.RequestTimeout < TimeSpan.Zero || route.BackendRequestTimeout < TimeSpan.Zero)
        {
            errors.Add($"{at}: negative timeout");
        }

        if (route.Cors is { } cors)
        {
            ValidateCors(at, cors, errors);
        }

        if (route.Retry is { } retry)
        {
            ValidateRetry(at, retry, errors);
        }
    }

    private static void ValidateRetry(string at, RetryIr retry, ImmutableArray<string>.Builder errors)
    {
        // GEP-1731 allows only error classes to be retried: 4xx and 5xx.
        foreach (var code in retry.Codes.NullToEmpty())
        {
            if (code is < 400 or > 599)
            {
                errors.Add($"{at}: retry code {code} is not within 400..599");
            }
        }

        if (retry.Attempts < 0)
        {
            errors.Add($"{at}: retry attempts {retry.Attempts} is negative");
        }

        if (retry.Backoff < TimeSpan.Zero)
        {
            errors.Add($"{at}: negative retry backoff");
        }
    }

    private static void ValidateCors(string at, CorsIr cors, ImmutableArray<string>.Builder errors)
    {
        if (cors.MaxAgeSeconds <= 0)
        {
            errors.Add($"{at}: CORS max age {cors.MaxAgeSeconds} must be positive");
        }

        foreach (var (field, list) in new[] { ("allowOrigins", cors.AllowOrigins), ("allowMethods", cors.AllowMethods), ("allowHeaders", cors.AllowHeaders), ("exposeHeaders", cors.ExposeHeaders) })
        {
            var items = list.NullToEmpty();
            if (items.Contains(CorsIr.Wildcard) && items.Length > 1)
            {
                errors.Add($"{at}: CORS {field} holds '*' alongside other values");
            }

            if (items.Any(string.IsNullOrWhiteSpace))
            {
                errors.Add($"{at}: CORS {field} holds an empty value");
            }
        }
    }

    private static void ValidateWebTransportRule(WebTransportRuleIr rule, ImmutableArray<string>.Builder errors)
    {
        var at = rule.Name;
        foreach (var match in rule.Matches.NullToEmpty())
        {
            if (match.Path is { } path)
            {
                if (path.Type == PathMatchType.RegularExpression)
                {
                    errors.Add($"{at}: session path matches are Exact or PathPrefix");
                }

                ValidatePath(at, path, errors);
            }

            if (match.TrackType is { } trackType
                && (trackType.Length is 0 or > TrackTypeFieldBytes || trackType.Any(c => c is < (char)0x21 or > (char)0x7e)))
            {
                errors.Add($"{at}: track type '{trackType}' must be 1-{TrackTypeFieldBytes} printable ASCII characters");
            }

            if (match.TrackId is { } trackId && (trackId.Value.Length == 0 || Encoding.UTF8.GetByteCount(trackId.Value) > TrackIdFieldBytes || trackId.Value.Contains('\0', StringComparison.Ordinal)))
            {
                errors.Add($"{at}: track id '{trackId.Value}' must be 1-{TrackIdFieldBytes} UTF-8 bytes without NUL");
            }
        }

        foreach (var backend in rule.Backends.NullToEmpty())
        {
            ValidateBackend(backend, errors);
        }

        var delivery = rule.Delivery;
        if (!delivery.Path.StartsWith('/'))
        {
            errors.Add($"{at}: delivery path '{delivery.Path}' must start with '/'");
        }

        if (delivery.Timeout <= TimeSpan.Zero)
        {
            errors.Add($"{at}: delivery timeout must be positive");
        }

        if (delivery.RetryAttempts is < 0 or > 10)
        {
            errors.Add($"{at}: retry attempts {delivery.RetryAttempts} is outside 0-10");
        }

        if (delivery.RetryBackoff < TimeSpan.Zero)
        {
            errors.Add($"{at}: retry backoff is negative");
        }
    }

    private static void ValidateBackend(WeightedBackendIr backend, ImmutableArray<string>.Builder errors)
    {
        if (backend.Weight < 0)
        {
            errors.Add($"{backend.Name}: negative weight {backend.Weight}");
        }

        foreach (var endpoint in backend.Endpoints.NullToEmpty())
        {
            if (string.IsNullOrEmpty(endpoint.Host) || endpoint.Port is < 1 or > 65535)
            {
                errors.Add($"{backend.Name}: endpoint '{endpoint.Host}:{endpoint.Port}' is not a host and a port in 1-65535");
            }
        }

        if (backend.Tls is { } tls)
        {
            if (string.IsNullOrEmpty(tls.Hostname))
            {
                errors.Add($"{backend.Name}/{tls.Name}: backend TLS has no hostname");
            }

            if (tls.SystemTrust == !tls.CaCertificatesPem.IsDefaultOrEmpty)
            {
                errors.Add($"{backend.Name}/{tls.Name}: backend TLS needs either CA certificates or system trust, not both or neither");
            }

            foreach (var name in tls.SubjectAltNames.NullToEmpty())
            {
                if (string.IsNullOrEmpty(name.Value))
                {
                    errors.Add($"{backend.Name}/{tls.Name}: empty subject alternative name");
                }
            }
        }
    }

    private static void ValidatePath(string at, PathMatchIr path, ImmutableArray<string>.Builder errors)
    {
        if (path.Type == PathMatchType.RegularExpression)
        {
            ValidateRegex(at, path.Value, errors);
        }
        else if (!path.Value.StartsWith('/'))
        {
            errors.Add($"{at}: path '{path.Value}' must start with '/'");
        }
    }

    private static void ValidateRegex(string at, string pattern, ImmutableArray<string>.Builder errors)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        }
        catch (ArgumentException e)
        {
            errors.Add($"{at}: invalid regular expression '{pattern}': {e.Message}");
        }
    }

    private static ImmutableArray<T> NullToEmpty<T>(this ImmutableArray<T> array) => array.IsDefault ? [] : array;
}
