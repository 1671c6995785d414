using System.Globalization;
using System.Net;
using Switchyard.Ir;
using Switchyard.Proxy.Listeners;

namespace Switchyard.Benchmarks.Http;

/// <summary>
/// The child role of <c>http-proxy</c>: <c>http-proxy-serve --port P --backend-port B</c> runs our
/// <see cref="ProxyServer"/> with one HTTP listener and one HTTPRoute (PathPrefix <c>/</c>) to 127.0.0.1:B, so that its
/// CPU and memory can be read from /proc apart from wrk's and the backend's. It serves until killed.
/// </summary>
internal static class ProxyChild
{
    public static async Task<int> RunAsync(string[] args)
    {
        int port = 0, backendPort = 0;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--port": port = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--backend-port": backendPort = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: await Console.Error.WriteLineAsync($"http-proxy-serve: unknown option {args[i]}").ConfigureAwait(false); return 2;
            }
        }

        if (port <= 0 || backendPort <= 0)
        {
            await Console.Error.WriteLineAsync("http-proxy-serve: --port and --backend-port are required").ConfigureAwait(false);
            return 2;
        }

        await using var server = new ProxyServer(new ProxyServerOptions { EndPointFor = _ => new IPEndPoint(IPAddress.Loopback, port), AdvertiseHttp3 = false });
        await server.ApplyAsync(Snapshot(backendPort)).ConfigureAwait(false);
        await Console.Out.WriteLineAsync($"http-proxy-serve: listening on {server.BoundEndPoints[80]}").ConfigureAwait(false);
        await Task.Delay(Timeout.Infinite).ConfigureAwait(false);
        return 0;
    }

    /// <summary>What the translator makes of a Gateway with one HTTP listener and one HTTPRoute to one endpoint.</summary>
    private static GatewaySnapshot Snapshot(int backendPort) => new()
    {
        Name = "default/bench",
        Listeners =
        [
            new ListenerIr
            {
                Name = "listener/default/bench/http",
                Protocol = ListenerProtocol.Http,
                Port = 80,
                VirtualHosts =
                [
                    new VirtualHostIr
                    {
                        Name = "vhost/*",
                        Hostname = "*",
                        Routes =
                        [
                            new HttpRouteIr
                            {
                                Name = "httproute/default/bench/rule/0/match/0",
                                Match = new HttpMatchIr { Path = new PathMatchIr { Type = PathMatchType.PathPrefix, Value = "/" } },
                                Backends =
                                [
                                    new HttpBackendIr
                                    {
                                        Backend = new WeightedBackendIr
                                        {
                                            Name = "service/default/backend/port/80",
                                            Weight = 1,
                                            Endpoints = [new EndpointIr { Host = "127.0.0.1", Port = backendPort }],
                                        },
                                    },
                                ],
                            },
                        ],
                    },
                ],
            },
        ],
    };
}
