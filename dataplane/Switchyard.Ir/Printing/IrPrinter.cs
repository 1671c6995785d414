using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Switchyard.Ir.Printing;

/// <summary>Turns a snapshot into a JSON tree for printing; certificate and key bytes are replaced by a redaction marker.</summary>
public static class IrPrinter
{
    /// <summary>Builds the printable tree of a snapshot.</summary>
    /// <param name="snapshot">The snapshot.</param>
    /// <returns>A JSON object; null and empty members are left out.</returns>
    public static JsonObject ToNode(GatewaySnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return Obj(
            ("name", snapshot.Name),
            ("addresses", Arr(snapshot.Addresses, a => JsonValue.Create(a))),
            ("backendClientCertificate", snapshot.BackendClientCertificate is not { } client ? null : Obj(
                ("name", client.Name),
                ("certificatePem", Redacted(client.CertificatePem)),
                ("privateKeyPem", Redacted(client.PrivateKeyPem)))),
            ("listeners", Arr(snapshot.Listeners, Listener)));
    }

    /// <summary>The marker printed instead of secret bytes.</summary>
    /// <param name="bytes">Secret bytes.</param>
    /// <returns>A string giving only the length.</returns>
    public static string Redacted(ImmutableArray<byte> bytes) => $"[redacted {(bytes.IsDefault ? 0 : bytes.Length)} bytes]";

    /// <summary>Formats a duration the way Gateway API writes it (for example <c>1m30s</c>, <c>250ms</c>, <c>0s</c>).</summary>
    /// <param name="duration">Duration.</param>
    /// <returns>The text.</returns>
    public static string Duration(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            return "0s";
        }

        var sb = new StringBuilder();
        var ms = (long)duration.TotalMilliseconds;
        Append(sb, ms / 3_600_000, "h");
        Append(sb, ms / 60_000 % 60, "m");
        Append(sb, ms / 1000 % 60, "s");
        Append(sb, ms % 1000, "ms");
        return sb.Length == 0 ? "0s" : sb.ToString();

        static void Append(StringBuilder sb, long value, string unit)
        {
            if (value != 0)
            {
                sb.Append(value.ToString(CultureInfo.InvariantCulture)).Append(unit);
            }
        }
    }

    private static JsonObject Listener(ListenerIr l) => Obj(
        ("name", l.Name),
        ("protocol", l.Protocol.ToString()),
        ("port", l.Port),
        ("hostname", l.Hostname),
        ("tls", l.Tls is null ? null : Obj(
            ("suppliedByDataPlane", l.Tls.SuppliedByDataPlane ? true : null),
            ("certificates", Arr(l.Tls.Certificates, c => Obj(
                ("name", c.Name),
                ("certificatePem", Redacted(c.CertificatePem)),
                ("privateKeyPem", Redacted(c.PrivateKeyPem))))),
            ("clientValidation", l.Tls.ClientValidation is not { } cv ? null : Obj(
                ("mode", cv.Mode.ToString()),
                ("caCertificates", Arr(cv.CaCertificates, c => Obj(
                    ("name", c.Name),
                    ("certificatePem", $"[{(c.CertificatePem.IsDefault ? 0 : c.CertificatePem.Length)} bytes]")))))))),
        ("virtualHosts", Arr(l.VirtualHosts, v => Obj(
            ("name", v.Name),
            ("hostname", v.Hostname),
            ("routes", Arr(v.Routes, HttpRoute))))),
        ("webTransportRoutes", Arr(l.WebTransportRoutes, WebTransportRoute)));

    private static JsonObject HttpRoute(HttpRouteIr r) => Obj(
        ("name", r.Name),
        ("match", Obj(
            ("path", Path(r.Match.Path)),
            ("method", r.Match.Method),
            ("headers", Arr(r.Match.Headers, StringMatch)),
            ("queryParams", Arr(r.Match.QueryParams, StringMatch)))),
        ("requestHeaders", Headers(r.RequestHeaders)),
        ("responseHeaders", Headers(r.ResponseHeaders)),
        ("redirect", r.Redirect is not { } d ? null : Obj(
            ("scheme", d.Scheme), ("hostname", d.Hostname), ("port", d.Port), ("path", PathModifier(d.Path)), ("statusCode", d.StatusCode))),
        ("rewrite", r.Rewrite is not { } w ? null : Obj(("hostname", w.Hostname), ("path", PathModifier(w.Path)))),
        ("mirrors", Arr(r.Mirrors, m => Obj(("backend", Backend(m.Backend)), ("numerator", m.Numerator), ("denominator", m.Denominator)))),
        ("backends", Arr(r.Backends, b => Obj(
            ("backend", Backend(b.Backend)),
            ("invalid", b.Invalid ? true : null),
            ("requestHeaders", Headers(b.RequestHeaders)),
            ("responseHeaders", Headers(b.ResponseHeaders))))),
        ("directResponseStatus", r.DirectResponseStatus),
        ("requestTimeout", r.RequestTimeout is { } t ? Duration(t) : null),
        ("backendRequestTimeout", r.BackendRequestTimeout is { } bt ? Duration(bt) : null),
        ("cors", r.Cors is not { } c ? null : Obj(
            ("allowOrigins", Arr(c.AllowOrigins, v => JsonValue.Create(v))),
            ("allowMethods", Arr(c.AllowMethods, v => JsonValue.Create(v))),
            ("allowHeaders", Arr(c.AllowHeaders, v => JsonValue.Create(v))),
            ("exposeHeaders", Arr(c.ExposeHeaders, v => JsonValue.Create(v))),
            ("allowCredentials", c.AllowCredentials ? true : null),
            ("maxAgeSeconds", c.MaxAgeSeconds))),
        ("retry", r.Retry is not { } retry ? null : Obj(
            ("codes", Arr(retry.Codes, v => JsonValue.Create(v))),
            ("attempts", retry.Attempts),
            ("backoff", Duration(retry.Backoff)))));

    private static JsonObject WebTransportRoute(WebTransportRouteIr r) => Obj(
        ("name", r.Name),
        ("hostnames", Arr(r.Hostnames, h => JsonValue.Create(h))),
        ("rules", Arr(r.Rules, rule => Obj(
            ("name", rule.Name),
            ("matches", Arr(rule.Matches, m => Obj(
                ("path", m.Path is null ? null : Path(m.Path)),
                ("trackType", m.TrackType),
                ("trackId", m.TrackId is not { } id ? null : Obj(("type", id.Type.ToString()), ("value", id.Value)))))),
            ("backends", Arr(rule.Backends, Backend)),
            ("delivery", Obj(
                ("mode", rule.Delivery.Mode.ToString()),
                ("path", rule.Delivery.Path),
                ("timeout", Duration(rule.Delivery.Timeout)),
                ("retryAttempts", rule.Delivery.RetryAttempts),
                ("retryBackoff", Duration(rule.Delivery.RetryBackoff))))))));

    private static JsonObject Backend(WeightedBackendIr b) => Obj(
        ("name", b.Name),
        ("weight", b.Weight),
        ("protocol", b.Protocol == BackendProtocol.Http1 ? null : b.Protocol.ToString()),
        ("endpoints", Arr(b.Endpoints, e => JsonValue.Create(e.ToString()))),
        ("tls", b.Tls is not { } tls ? null : Obj(
            ("name", tls.Name),
            ("hostname", tls.Hostname),
            ("systemTrust", tls.SystemTrust ? true : null),
            ("caCertificatesPem", tls.CaCertificatesPem.IsDefaultOrEmpty ? null : $"[{tls.CaCertificatesPem.Length} bytes]"),
            ("subjectAltNames", Arr(tls.SubjectAltNames, n => Obj(("type", n.Type.ToString()), ("value", n.Value)))))));

    private static JsonObject Path(PathMatchIr p) => Obj(("type", p.Type.ToString()), ("value", p.Value));

    private static JsonObject? PathModifier(PathModifierIr? p) => p is null ? null : Obj(("type", p.Type.ToString()), ("value", p.Value));

    private static JsonObject StringMatch(StringMatchIr m) => Obj(("name", m.Name), ("type", m.Type.ToString()), ("value", m.Value));

    private static JsonObject? Headers(HeaderModifierIr? h) => h is null ? null : Obj(
        ("set", Arr(h.Set, v => Obj(("name", v.Name), ("value", v.Value)))),
        ("add", Arr(h.Add, v => Obj(("name", v.Name), ("value", v.Value)))),
        ("remove", Arr(h.Remove, v => JsonValue.Create(v))));

    private static JsonArray? Arr<T>(ImmutableArray<T> items, Func<T, JsonNode?> map)
    {
        if (items.IsDefaultOrEmpty)
        {
            return null;
        }

        var array = new JsonArray();
        foreach (var item in items)
        {
            array.Add(map(item));
        }

        return array;
    }

    private static JsonObject Obj(params (string Key, object? Value)[] members)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in members)
        {
            switch (value)
            {
                case null:
                    break;
                case JsonNode node:
                    obj[key] = node;
                    break;
                case string s:
                    obj[key] = JsonValue.Create(s);
                    break;
                case int i:
                    obj[key] = JsonValue.Create(i);
                    break;
                case bool b:
                    obj[key] = JsonValue.Create(b);
                    break;
                default:
                    obj[key] = JsonValue.Create(value.ToString());
                    break;
            }
        }

        return obj;
    }
}
