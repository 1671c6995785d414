using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Switchyard.Conformance.Backends;
using Switchyard.Conformance.Kube;
using Switchyard.Controller.Hosting;
using Switchyard.Controller.Providers.Kubernetes;
using Switchyard.Controller.Provisioning;
using Switchyard.Controller.Translation;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.Config;
using Switchyard.Kubernetes.DevApiServer;
using Switchyard.Kubernetes.DevApiServer.Logs;

namespace Switchyard.Conformance.Environments;

/// <summary>
/// Everything in one process: the API server double with the Gateway API CRDs, the real controller
/// (<see cref="ControllerHost"/>: provider, translator, status writer) and the real data plane (a
/// <see cref="Switchyard.Gateway.DataPlane.DataPlaneHost"/> fed by the host's snapshots, serving HTTP, HTTPS, HTTP/3
/// and WebTransport). Kubernetes' own
/// controllers are played here: an applied Deployment becomes Pods served by <see cref="EchoServer"/> on loopback
/// addresses, and every Service with a selector gets an EndpointSlice listing its Pods.
/// </summary>
internal sealed class InProcessEnvironment : IConformanceEnvironment, IPodLogSource
{
    private readonly DevApiServer apiServer;
    private readonly KubernetesClient client;
    private readonly ControllerHost host;
    private readonly GatewayDataPlane dataPlane;
    private readonly CancellationTokenSource stop = new();
    private readonly List<EchoServer> echoServers = [];
    private readonly Lock gate = new();
    private readonly Action<string> log;
    private readonly byte loopbackNet = (byte)RandomNumberGenerator.GetInt32(100, 250);
    private int nextSubnet = RandomNumberGenerator.GetInt32(0, 200);
    private IDisposable? subscription;
    private Task? hostTask;

    private InProcessEnvironment(DevApiServer apiServer, KubernetesClient client, string controllerName, IReadOnlyList<NetworkAddress> usable, Action<string> log)
    {
        // The load balancer's pool: the usable addresses, and the loopback address every Gateway without a static
        // address shares. The translator knows the same pool, so an address outside it is AddressNotUsable at once.
        ImmutableArray<IPNetwork> pools =
        [
            new IPNetwork(IPAddress.Loopback, 32),
            .. usable.Where(a => a.Type == "IPAddress").Select(a => IPAddress.Parse(a.Value)).Select(ip => new IPNetwork(ip, ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)),
        ];
        this.apiServer = apiServer;
        this.client = client;
        this.log = log;
        Kube = new KubeObjects(client);
        host = new ControllerHost(client, new ControllerHostOptions
        {
            Translator = new TranslatorOptions { ControllerName = controllerName, AddressPools = pools },
            Provisioning = new GatewayProvisionerOptions
            {
                LocalLoadBalancer = new LocalLoadBalancerOptions { Pools = pools, SharedAddress = IPAddress.Loopback },
            },
            Debounce = TimeSpan.FromMilliseconds(50),
            StatusRetryBackoff = TimeSpan.FromMilliseconds(200),
            Log = (level, message, ex) =>
            {
                if (level >= ControllerLogLevel.Warning)
                {
                    log($"controller {level}: {message}{(ex is null ? "" : ": " + ex.Message)}");
                }
            },
        });
        dataPlane = new GatewayDataPlane(log);
    }

    public string Mode => "in-process";

    public KubeObjects Kube { get; }

    /// <summary>Starts the API server, applies the CRDs and the GatewayClass, then starts the controller and data plane.</summary>
    public static async Task<InProcessEnvironment> StartAsync(string gatewayClassName, string controllerName, IReadOnlyList<NetworkAddress> usable, Action<string> log, CancellationToken cancellationToken)
    {
        // The environment plays the kubelet for pod logs; it exists only once the server does, hence the late binding.
        var logs = new LateBoundPodLogs();
        var server = new DevApiServer(new DevApiServerOptions { BookmarkInterval = TimeSpan.FromSeconds(1), PodLogs = logs });
        await server.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), cancellationToken).ConfigureAwait(false);
        var client = new KubernetesClient(KubernetesClientConfiguration.FromKubeconfigText(server.KubeconfigText));
        var env = new InProcessEnvironment(server, client, controllerName, usable, log);
        logs.Source = env;
        try
        {
            foreach (var crd in SuiteManifests.Crds())
            {
                await env.Kube.ApplyAsync(crd, cancellationToken).ConfigureAwait(false);
            }

            await Poll.UntilAsync("the Gateway API CRDs to be served", TimeSpan.FromSeconds(30), async ct =>
            {
                try
                {
                    await client.Resource(KubernetesResources.HttpRoutes).ListAsync(null, null, ct).ConfigureAwait(false);
                    await client.Resource(KubernetesResources.ReferenceGrants).ListAsync(null, null, ct).ConfigureAwait(false);
                    return (true, "");
                }
                catch (KubernetesApiException ex)
                {
                    return (false, ex.Message);
                }
            }, cancellationToken).ConfigureAwait(false);

            await env.Kube.ApplyAsync(new JsonObject
            {
                ["apiVersion"] = "gateway.networking.k8s.io/v1",
                ["kind"] = "GatewayClass",
                ["metadata"] = new JsonObject { ["name"] = gatewayClassName },
                ["spec"] = new JsonObject { ["controllerName"] = controllerName, ["description"] = "Switchyard, in-process conformance run" },
            }, cancellationToken).ConfigureAwait(false);

            env.subscription = env.host.Snapshots.Subscribe(env.dataPlane);
            env.hostTask = Task.Run(() => env.host.RunAsync(env.stop.Token), CancellationToken.None);
            return env;
        }
        catch
        {
            await env.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task OnAppliedAsync(JsonObject obj, CancellationToken cancellationToken)
    {
        var kind = obj["kind"]?.GetValue<string>();
        if (kind is not ("Deployment" or "Service"))
        {
            return;
        }

        var (ns, _) = Names.Read(obj);
        if (kind == "Deployment")
        {
            await StartPodsAsync(obj, cancellationToken).ConfigureAwait(false);
        }

        await ReconcileEndpointSlicesAsync(ns!, cancellationToken).ConfigureAwait(false);
    }

    public Task<string?> TryGetGatewayAddressAsync(NN gateway, int listenerPort, CancellationToken cancellationToken) =>
        Task.FromResult(dataPlane.TryGetEndPoint(gateway.ToString(), listenerPort)?.ToString());

    public Task<string?> TryGetWebTransportAddressAsync(NN gateway, int listenerPort, CancellationToken cancellationToken) =>
        Task.FromResult(dataPlane.TryGetUdpEndPoint(gateway.ToString(), listenerPort)?.ToString());

    public IReadOnlyList<TrackLogEntry>? TracksReceived(string podPrefix, string ns, DateTimeOffset since)
    {
        lock (gate)
        {
            return [.. echoServers.SelectMany(s => s.TracksTo(podPrefix, ns, since))];
        }
    }

    public Task<IReadOnlyList<EchoLogEntry>> RequestsReceivedAsync(string backend, string ns, DateTimeOffset since, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return Task.FromResult<IReadOnlyList<EchoLogEntry>>([.. echoServers.SelectMany(s => s.RequestsTo(backend, ns, since))]);
        }
    }

    /// <summary>The kubelet's part of <c>pods/NAME/log</c>: the log of the echo pod of that name.</summary>
    public IReadOnlyList<PodLogEntry>? Read(string @namespace, string pod, string? container)
    {
        lock (gate)
        {
            return echoServers.Select(s => s.PodLog(pod, @namespace)).FirstOrDefault(l => l is not null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        if (hostTask is not null)
        {
            try
            {
                await hostTask.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        subscription?.Dispose();
        await dataPlane.DisposeAsync().ConfigureAwait(false);
        foreach (var echo in echoServers)
        {
            await echo.DisposeAsync().ConfigureAwait(false);
        }

        client.Dispose();
        await apiServer.DisposeAsync().ConfigureAwait(false);
        stop.Dispose();
    }

    /// <summary>The Deployment controller and kubelet in one: Pods with loopback IPs, served by an echo server.</summary>
    private async Task StartPodsAsync(JsonObject deployment, CancellationToken cancellationToken)
    {
        var (ns, name) = Names.Read(deployment);
        var replicas = (int)(Conditions.Long(deployment["spec"], "replicas") ?? 1);
        var labels = deployment["spec"]?["template"]?["metadata"]?["labels"]?.DeepClone() as JsonObject ?? [];
        var template = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
        var tls = await EchoTlsAsync(deployment, ns!, cancellationToken).ConfigureAwait(false);
        EchoServer? echo = null;
        List<EchoPod> pods = [];
        for (var attempt = 0; echo is null; attempt++)
        {
            var subnet = (byte)(Interlocked.Increment(ref nextSubnet) % 256);
            pods = [.. Enumerable.Range(1, replicas).Select(i => new EchoPod(
                $"{name}-{template}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))[..5]}", ns!, new IPAddress([127, loopbackNet, subnet, (byte)i])))];
            try
            {
                echo = await EchoServer.StartAsync(pods, cancellationToken, tls).ConfigureAwait(false);
            }
            catch (IOException ex) when (attempt < 10 && ex.InnerException is SocketException or null)
            {
                log($"echo pods of {ns}/{name}: {ex.Message}; trying other addresses");
            }
        }

        lock (gate)
        {
            echoServers.Add(echo);
        }

        foreach (var pod in pods)
        {
            var ip = pod.Address.ToString();
            var obj = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Pod",
                ["metadata"] = new JsonObject { ["name"] = pod.Name, ["namespace"] = ns, ["labels"] = labels.DeepClone() },
                ["spec"] = new JsonObject
                {
                    ["containers"] = new JsonArray(new JsonObject { ["name"] = name, ["image"] = "switchyard-conformance-echo (in-process)" }),
                },
            };
            var created = await Kube.For(KubeObjects.Pods).CreateAsync(ns, obj, cancellationToken).ConfigureAwait(false);
            created["status"] = new JsonObject
            {
                ["phase"] = "Running",
                ["podIP"] = ip,
                ["podIPs"] = new JsonArray(new JsonObject { ["ip"] = ip }),
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True" }),
            };
            await Kube.For(KubeObjects.Pods).ReplaceStatusAsync(ns, pod.Name, created, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The TLS an echo-basic container is configured with: <c>TLS_SERVER_CERT</c> and <c>TLS_SERVER_PRIVKEY</c> (and
    /// <c>TLS_CLIENT_CACERTS</c>) name files of mounted Secret or ConfigMap volumes, read here from the API as the
    /// kubelet would mount them. Null when the container serves no TLS.
    /// </summary>
    private async Task<EchoTls?> EchoTlsAsync(JsonObject deployment, string ns, CancellationToken cancellationToken)
    {
        var certPath = ContainerEnv(deployment, "TLS_SERVER_CERT");
        var keyPath = ContainerEnv(deployment, "TLS_SERVER_PRIVKEY");
        var caPath = ContainerEnv(deployment, "TLS_CLIENT_CACERTS");
        if (certPath is null || keyPath is null)
        {
            return null;
        }

        async Task<string> ReadAsync(string path)
        {
            var (secret, name, key) = MountedFile(deployment, path);
            if (secret)
            {
                var obj = await Kube.GetAsync(ResourceType.Secrets, ns, name, cancellationToken).ConfigureAwait(false);
                var data = Conditions.Str(Child(obj, "data"), key) ?? throw new ConformanceException("Secret " + name + " has no " + key);
                return Encoding.ASCII.GetString(Convert.FromBase64String(data));
            }

            var configMap = await Kube.GetAsync(ResourceType.ConfigMaps, ns, name, cancellationToken).ConfigureAwait(false);
            return Conditions.Str(Child(configMap, "data"), key) ?? throw new ConformanceException("ConfigMap " + name + " has no " + key);
        }

        var certPem = await ReadAsync(certPath).ConfigureAwait(false);
        var keyPem = await ReadAsync(keyPath).ConfigureAwait(false);
        var certificate = X509Certificate2.CreateFromPem(certPem, keyPem);
        X509Certificate2Collection? clientCas = null;
        if (caPath is not null)
        {
            clientCas = [];
            var caPem = await ReadAsync(caPath).ConfigureAwait(false);
            clientCas.ImportFromPem(caPem);
        }

        return new EchoTls(certificate, clientCas);
    }

    private static JsonNode? Child(JsonNode? node, string key) => node?[key];

    /// <summary>A literal environment variable of the Deployment's first container, or null.</summary>
    private static string? ContainerEnv(JsonObject deployment, string name)
    {
        var container = (Child(Child(Child(Child(deployment, "spec"), "template"), "spec"), "containers") as JsonArray)?.FirstOrDefault();
        var entry = (Child(container, "env") as JsonArray)?.FirstOrDefault(e => Conditions.Str(e, "name") == name);
        return entry is null ? null : Conditions.Str(entry, "value");
    }

    /// <summary>Which Secret or ConfigMap key a file of the Deployment's first container comes from (its volume mounts and items).</summary>
    private static (bool Secret, string Name, string Key) MountedFile(JsonObject deployment, string path)
    {
        var pod = Child(Child(Child(deployment, "spec"), "template"), "spec");
        var container = (Child(pod, "containers") as JsonArray)?.FirstOrDefault();
        var mount = (Child(container, "volumeMounts") as JsonArray)?.FirstOrDefault(m => Conditions.Str(m, "mountPath") is { } mp && path.StartsWith(mp.TrimEnd('/') + "/", StringComparison.Ordinal))
            ?? throw new ConformanceException($"{Names.Read(deployment)}: no volume mounted at {path}");
        var file = path[(Conditions.Str(mount, "mountPath")!.TrimEnd('/').Length + 1)..];
        var volume = (Child(pod, "volumes") as JsonArray)?.FirstOrDefault(v => Conditions.Str(v, "name") == Conditions.Str(mount, "name"))
            ?? throw new ConformanceException($"{Names.Read(deployment)}: no volume {Conditions.Str(mount, "name")}");
        var secret = Child(volume, "secret");
        var source = secret ?? Child(volume, "configMap");
        var key = (Child(source, "items") as JsonArray)?.FirstOrDefault(i => Conditions.Str(i, "path") == file) is { } item ? Conditions.Str(item, "key")! : file;
        return (secret is not null, Conditions.Str(source, secret is not null ? "secretName" : "name") ?? "", key);
    }

    /// <summary>The EndpointSlice controller: one slice per Service with a selector, listing the ready Pods it selects.</summary>
    private async Task ReconcileEndpointSlicesAsync(string ns, CancellationToken cancellationToken)
    {
        var services = await Kube.For(ResourceType.Services).ListAsync(ns, null, cancellationToken).ConfigureAwait(false);
        var pods = await Kube.For(KubeObjects.Pods).ListAsync(ns, null, cancellationToken).ConfigureAwait(false);
        foreach (var service in services.Items)
        {
            if (service["spec"]?["selector"] is not JsonObject selector || selector.Count == 0)
            {
                continue;
            }

            var (_, name) = Names.Read(service);
            var selected = pods.Items.Where(p => selector.All(kv => Conditions.Str(p["metadata"]?["labels"], kv.Key) == kv.Value?.GetValue<string>())).ToList();
            var ports = new JsonArray();
            foreach (var port in service["spec"]?["ports"] as JsonArray ?? [])
            {
                if (port?["targetPort"] is JsonValue tp && tp.TryGetValue<int>(out var target))
                {
                    var p = new JsonObject { ["port"] = target, ["protocol"] = "TCP" };
                    if (Conditions.Str(port, "name") is { } portName)
                    {
                        p["name"] = portName;
                    }

                    ports.Add(p);
                }
            }

            var endpoints = new JsonArray();
            foreach (var pod in selected)
            {
                if (Conditions.Str(pod["status"], "podIP") is { } ip)
                {
                    endpoints.Add(new JsonObject
                    {
                        ["addresses"] = new JsonArray(ip),
                        ["conditions"] = new JsonObject { ["ready"] = true, ["serving"] = true, ["terminating"] = false },
                        ["targetRef"] = new JsonObject { ["kind"] = "Pod", ["name"] = Names.Read(pod).Name, ["namespace"] = ns },
                    });
                }
            }

            await Kube.ApplyAsync(new JsonObject
            {
                ["apiVersion"] = "discovery.k8s.io/v1",
                ["kind"] = "EndpointSlice",
                ["metadata"] = new JsonObject
                {
                    ["name"] = name + "-" + string.Create(CultureInfo.InvariantCulture, $"{name.Length:x}") + "echo",
                    ["namespace"] = ns,
                    ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = name, ["endpointslice.kubernetes.io/managed-by"] = "switchyard-conformance" },
                },
                ["addressType"] = "IPv4",
                ["ports"] = ports,
                ["endpoints"] = endpoints,
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Forwards log reads to the environment once it exists; until then no pod has a log.</summary>
    private sealed class LateBoundPodLogs : IPodLogSource
    {
        public volatile IPodLogSource? Source;

        public IReadOnlyList<PodLogEntry>? Read(string @namespace, string pod, string? container) => Source?.Read(@namespace, pod, container);
    }
}
