using System.Net.WebSockets;
using System.Text;
using Switchyard.Conformance.Http;
using Switchyard.Conformance.Kube;
using static Switchyard.Conformance.Scenarios.Dsl;

namespace Switchyard.Conformance.Scenarios;

/// <summary>The extended GATEWAY-HTTP tests of CORS and of backend application protocols (h2c, WebSocket).</summary>
internal static class HttpProtocolFeatureTests
{
    private const string AllowOrigin = "access-control-allow-origin";
    private const string AllowMethods = "access-control-allow-methods";
    private const string AllowHeaders = "access-control-allow-headers";
    private const string ExposeHeaders = "access-control-expose-headers";
    private const string MaxAge = "access-control-max-age";
    private const string AllowCredentials = "access-control-allow-credentials";

    public static IEnumerable<ConformanceTest> All()
    {
        yield return new("HTTPRouteBackendProtocolH2C", "A backendRef to a Service port with appProtocol kubernetes.io/h2c is reached with HTTP/2 prior knowledge.", ["HTTPRouteBackendProtocolH2C"], ["tests/httproute-backend-protocol-h2c.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("backend-protocol-h2c")], t.Ct);

            // The client speaks h2c prior knowledge to the gateway, as upstream's does; the backend's port answers only h2c.
            var expected = Ok("/", "infra-backend-v1");
            await t.ExpectAsync(gw, expected with { Request = expected.Request with { Protocol = Request.H2cPriorKnowledge } });
        });

        yield return new("HTTPRouteBackendProtocolWebSocket", "A backendRef to a Service port with appProtocol kubernetes.io/ws carries a WebSocket.", ["HTTPRouteBackendProtocolWebSocket"], ["tests/httproute-backend-protocol-websocket.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("backend-protocol-ws")], t.Ct);
            var successes = 0;
            await Poll.UntilAsync("a WebSocket echo through the gateway at /ws", t.Options.Timeout, async ct =>
            {
                var address = await t.Env.TryGetGatewayAddressAsync(gw, 80, ct);
                if (address is null)
                {
                    successes = 0;
                    return (false, "the Gateway has no address");
                }

                while (true)
                {
                    var why = await WebSocketEchoOnceAsync(address, t.Http.RequestTimeout, ct);
                    if (why is not null)
                    {
                        successes = 0;
                        return (false, why);
                    }

                    if (++successes >= t.Options.RequiredConsecutiveSuccesses)
                    {
                        return (true, "");
                    }
                }
            }, t.Ct);
        });

        yield return new("HTTPRouteCORS", "A CORS filter answers preflights and adds CORS headers for allowed origins only.", ["HTTPRouteCORS"], ["tests/httproute-cors.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            NN[] routes = [Route("cors-multiple-origins-methods-headers"), Route("cors-wildcard-methods"), Route("cors-wildcard-origin"), Route("cors-wildcard-methods-headers")];
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, routes[..2], t.Ct);
            await t.Waiters.HttpRoutesMustHaveResolvedRefsAsync(gw, routes, t.Ct);
            (string, string)[] requestsHeaders = [("access-control-request-method", "GET"), ("access-control-request-headers", "x-header-1, x-header-2")];
            var cors1 = V((AllowMethods, ["GET, OPTIONS", "OPTIONS, GET"]), (AllowHeaders, ["x-header-1, x-header-2", "x-header-2, x-header-1"]),
                (ExposeHeaders, ["x-header-3, x-header-4", "x-header-4, x-header-3"]), (MaxAge, ["3600"]), (AllowCredentials, ["true"]));
            await ExpectAllAsync(t, gw,
            [
                // Preflights from an exact origin, a wildcard-matched one, and one with more labels left of the '*'.
                Preflight("/cors-1", [("Origin", "https://www.foo.com"), .. requestsHeaders], [200, 204], With(cors1, (AllowOrigin, ["https://www.foo.com"]))),
                Preflight("/cors-1", [("Origin", "https://www.bar.com"), .. requestsHeaders], [200], With(cors1, (AllowOrigin, ["https://www.bar.com"]))),
                Preflight("/cors-1", [("Origin", "https://xpto.www.bar.com"), .. requestsHeaders], [200], With(cors1, (AllowOrigin, ["https://xpto.www.bar.com"]))),
                Preflight("/cors-1", [("Origin", "https://foobar.com"), ("access-control-request-method", "GET")], [200, 204, 403], V()) with { AbsentResponseHeaders = [AllowOrigin] },

                // Actual requests: the backend answers, the gateway adds Access-Control-Allow-Origin for allowed origins only.
                Simple("GET", "/cors-1", [("Origin", "https://www.foo.com"), .. requestsHeaders], [200, 204]) with { ResponseHeaders = H((AllowOrigin, "https://www.foo.com")) },
                Simple("GET", "/cors-1", [("Origin", "https://www.bar.com"), .. requestsHeaders], [200, 204]) with { ResponseHeaders = H((AllowOrigin, "https://www.bar.com")) },
                Simple("GET", "/cors-1", [("Origin", "https://foobar.com"), ("access-control-request-method", "GET")], [200]) with { AbsentResponseHeaders = [AllowOrigin] },

                // allowMethods '*' without credentials: '*' or the requested method, and no credentials header.
                Preflight("/cors-2", [("Origin", "https://www.foo.com"), ("access-control-request-method", "POST")], [200, 204], V((AllowMethods, ["POST", "*"])))
                    with { ResponseHeaders = H((AllowOrigin, "https://www.foo.com")), AbsentResponseHeaders = [AllowCredentials] },
                Preflight("/cors-2", [("Origin", "https://www.foo.com"), ("access-control-request-method", "POST")], [200], V()) with { AbsentResponseHeaders = ["Access-Control-Allow-Credentials"] },

                // allowOrigins '*' without credentials: '*' or the origin, with or without a port.
                Preflight("/cors-wildcard-origin", [("Origin", "https://foobar.com"), ("access-control-request-method", "PUT")], [200, 204],
                    V((AllowOrigin, ["https://foobar.com", "*"]), (AllowMethods, ["PUT"]))) with { AbsentResponseHeaders = ["Access-Control-Allow-Credentials"] },
                Preflight("/cors-wildcard-origin", [("Origin", "https://foobar.com:12345"), ("access-control-request-method", "PUT")], [200, 204],
                    V((AllowOrigin, ["https://foobar.com:12345", "*"]), (AllowMethods, ["PUT"]))) with { AbsentResponseHeaders = ["Access-Control-Allow-Credentials"] },
                Simple("PUT", "/cors-wildcard-origin", [("Origin", "https://foobar.com:12345")], [200]) with { ResponseHeaderValues = V((AllowOrigin, ["https://foobar.com:12345", "*"])) },
                Simple("PUT", "/cors-wildcard-origin", [("Origin", "https://foobar.com")], [200, 204])
                    with { ResponseHeaderValues = V((AllowOrigin, ["https://foobar.com", "*"])), AbsentResponseHeaders = ["Access-Control-Allow-Credentials"] },

                // Wildcards with credentials must echo the origin, method and headers; without, '*' is allowed too.
                Preflight("/cors-wildcard-methods-headers", [("Origin", "https://other.foo.com"), ("access-control-request-method", "PUT"), ("access-control-request-headers", "x-header-1, x-header-2")], [200],
                    V((AllowOrigin, ["https://other.foo.com"]), (AllowMethods, ["PUT"]), (AllowHeaders, ["x-header-1, x-header-2", "x-header-2, x-header-1"]), (AllowCredentials, ["true"]))),
                Preflight("/cors-wildcard-methods-headers-unauth", [("Origin", "https://other.foo.com"), ("access-control-request-method", "PUT"), ("access-control-request-headers", "x-header-1, x-header-2")], [200],
                    V((AllowOrigin, ["https://other.foo.com", "*"]), (AllowMethods, ["PUT", "*"]), (AllowHeaders, ["x-header-1, x-header-2", "x-header-2, x-header-1", "*"])))
                    with { AbsentResponseHeaders = [AllowCredentials] },
                Simple("GET", "/cors-wildcard-methods-headers", [("Origin", "https://other.foo.com"), ("Authorization", "Bearer test")], [200])
                    with { ResponseHeaderValues = V((AllowOrigin, ["https://other.foo.com"]), (AllowCredentials, ["true"])) },
                Simple("GET", "/cors-wildcard-methods-headers-unauth", [("Origin", "https://other.foo.com"), ("Authorization", "Bearer test")], [200])
                    with { ResponseHeaderValues = V((AllowOrigin, ["https://other.foo.com"])), AbsentResponseHeaders = [AllowCredentials] },
            ]);
        });
    }

    /// <summary>
    /// A CORS preflight, which the gateway answers itself: upstream expects no echo (empty path, host and namespace)
    /// and compares header values ignoring whitespace.
    /// </summary>
    private static ExpectedResponse Preflight(string path, (string Name, string Value)[] headers, int[] statuses, Dictionary<string, string[]> valid) => new()
    {
        Request = new Request { Path = path, Method = "OPTIONS", Headers = [.. headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value))] },
        ExpectedRequest = new ExpectedRequest { Host = "", Method = "OPTIONS", Path = "" },
        Namespace = "",
        StatusCodes = statuses,
        ResponseHeaderValues = valid,
        IgnoreWhitespace = true,
    };

    /// <summary>An actual cross-origin request, answered by infra-backend-v1 in the infra namespace.</summary>
    private static ExpectedResponse Simple(string method, string path, (string Name, string Value)[] headers, int[] statuses) => new()
    {
        Request = new Request { Path = path, Method = method, Headers = [.. headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value))] },
        Namespace = Infra,
        StatusCodes = statuses,
    };

    private static Dictionary<string, string[]> V(params (string Name, string[] Values)[] pairs) =>
        pairs.ToDictionary(p => p.Name, p => p.Values, StringComparer.OrdinalIgnoreCase);

    private static Dictionary<string, string[]> With(Dictionary<string, string[]> common, (string Name, string[] Values) extra) =>
        new(common.Append(new(extra.Name, extra.Values)), StringComparer.OrdinalIgnoreCase);

    /// <summary>Upstream's WebSocket check: dial <c>ws://gateway/ws</c>, send a text and a binary message, get each back.</summary>
    private static async Task<string?> WebSocketEchoOnceAsync(string address, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        using var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("Origin", "ws://gateway/HTTPRouteBackendProtocolWebSocket");
        try
        {
            await ws.ConnectAsync(new Uri($"ws://{address}/ws"), deadline.Token);
            foreach (var (type, payload) in new[] { (WebSocketMessageType.Text, Encoding.UTF8.GetBytes("Websocket Support!")), (WebSocketMessageType.Binary, new byte[] { 1, 2, 3, 4, 5, 6, 7 }) })
            {
                await ws.SendAsync(payload, type, endOfMessage: true, deadline.Token);
                var reply = new byte[1024];
                var filled = 0;
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await ws.ReceiveAsync(reply.AsMemory(filled), deadline.Token);
                    filled += received.Count;
                }
                while (!received.EndOfMessage && filled < reply.Length);

                if (received.MessageType != type || !reply.AsSpan(0, filled).SequenceEqual(payload))
                {
                    return $"sent {type} [{Convert.ToHexString(payload)}], received {received.MessageType} [{Convert.ToHexString(reply, 0, filled)}]";
                }
            }

            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, deadline.Token);
            return null;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or HttpRequestException)
        {
            return ct.IsCancellationRequested ? "cancelled" : $"WebSocket failed: {ex.Message}";
        }
    }
}
