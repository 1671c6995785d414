using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using System.Net;
using Switchyard.Cli.Hosting;
using Switchyard.Controller.Hosting;
using Switchyard.Controller.Provisioning;
using Switchyard.Controller.Translation;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.Config;

namespace Switchyard.Cli;

/// <summary>
/// Attaches a data plane to a running control plane: subscribe to <see cref="ControllerHost.Snapshots"/> and serve
/// until <paramref name="cancellationToken"/> is cancelled.
/// </summary>
/// <param name="host">The control plane, not yet running when this is called.</param>
/// <param name="cancellationToken">Cancelled on Ctrl+C or SIGTERM.</param>
/// <returns>Completes when the data plane has stopped.</returns>
internal delegate Task DataPlaneAttachment(ControllerHost host, CancellationToken cancellationToken);

/// <summary><c>switchyard controller</c>: the Kubernetes-mode control plane (provider, translator, provisioner, status writer).</summary>
internal static class ControllerCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="attachDataPlane">The data-plane hook: called once with the host before it runs, and awaited
    /// alongside it. Null serves the Gateways in this process with <see cref="ControllerDataPlane"/> unless
    /// <c>--data-plane=false</c>.</param>
    public static Command Create(DataPlaneAttachment? attachDataPlane = null)
    {
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Path to a kubeconfig; default $KUBECONFIG, then ~/.kube/config." };
        var inCluster = new Option<bool>("--in-cluster") { Description = "Use the pod's service account (KUBERNETES_SERVICE_HOST/PORT and its token)." };
        var controllerName = new Option<string>("--gateway-class-controller")
        {
            Description = "The controllerName of the GatewayClasses this controller implements.",
            DefaultValueFactory = _ => TranslatorOptions.DefaultControllerName,
        };
        var leaderElect = new Option<bool>("--leader-elect")
        {
            Description = "Elect one replica through a coordination.k8s.io Lease to write status (true|false).",
            DefaultValueFactory = _ => true,
        };
        var leaseNamespace = new Option<string?>("--lease-namespace") { Description = "Namespace of the Lease; default the pod's or the kubeconfig context's namespace." };
        var leaseName = new Option<string>("--lease-name") { Description = "Name of the Lease.", DefaultValueFactory = _ => "switchyard-controller" };
        var identity = new Option<string?>("--identity") { Description = "This replica's identity in the Lease; default hostname plus a random suffix." };
        var leaseDuration = new Option<string>("--leader-elect-lease-duration") { Description = "How long a lease lasts without renewal (Go duration).", DefaultValueFactory = _ => "15s" };
        var renewDeadline = new Option<string>("--leader-elect-renew-deadline") { Description = "How long the leader retries a renewal before giving up.", DefaultValueFactory = _ => "10s" };
        var retryPeriod = new Option<string>("--leader-elect-retry-period") { Description = "How often candidates retry and the leader renews.", DefaultValueFactory = _ => "2s" };
        var devCertificates = new Option<bool>("--dev-certificates")
        {
            Description = "Accept HTTPS listeners without certificateRefs; the data plane serves a generated certificate (development only).",
        };
        var dataPlane = new Option<bool>("--data-plane")
        {
            Description = "Serve every programmed Gateway's listeners in this process (true|false).",
            DefaultValueFactory = _ => true,
        };
        var dataPlaneAddress = DataPlaneBindings.AddressOption("--data-plane-address");
        var dataPlaneBind = DataPlaneBindings.BindOption("--data-plane-bind");
        var allowedOrigins = DataPlaneBindings.AllowedOriginOption();
        var provision = new Option<bool>("--provision-services")
        {
            Description = "Create, update and delete one LoadBalancer Service switchyard-GATEWAY per accepted Gateway, with its spec.infrastructure labels and annotations and its static addresses pinned for MetalLB (true|false).",
            DefaultValueFactory = _ => true,
        };
        var dataPlaneSelector = new Option<string>("--data-plane-selector")
        {
            Description = "Labels of the data-plane pods the Gateway Services select, KEY=VALUE,… (default: this install's controller pods, which serve the listeners).",
            DefaultValueFactory = _ => "app.kubernetes.io/name=switchyard,app.kubernetes.io/component=controller",
        };
        var addressPools = new Option<string[]>("--address-pool")
        {
            Description = "An address range the load balancer assigns from, as CIDR, e.g. 192.0.2.0/24 (repeatable; MetalLB's IPAddressPools). A static Gateway address outside every pool is reported AddressNotUsable; with none given, the load balancer's answer decides.",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var localLoadBalancer = new Option<bool>("--local-load-balancer")
        {
            Description = "Fill the Gateway Services' load balancer status in this process, as MetalLB would, from --address-pool and --data-plane-address (for an API server without a load balancer, such as switchyard dev-apiserver).",
        };
        var debounce = new Option<string>("--debounce") { Description = "Quiet time before changes are translated.", DefaultValueFactory = _ => "100ms", Hidden = true };

        var command = new Command("controller", "Run the control plane against a Kubernetes API server: watch Gateway API objects, compute and write their status.")
        {
            kubeconfig, inCluster, controllerName, leaderElect, leaseNamespace, leaseName, identity,
            leaseDuration, renewDeadline, retryPeriod, devCertificates, dataPlane, dataPlaneAddress, dataPlaneBind, allowedOrigins, debounce,
            provision, dataPlaneSelector, addressPools, localLoadBalancer,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            KubernetesClientConfiguration configuration;
            TimeSpan lease, renew, retry, quiet;
            DataPlaneBindings bindings;
            ImmutableArray<IPNetwork> pools;
            Dictionary<string, string> selector;
            try
            {
                pools = [.. (parseResult.GetValue(addressPools) ?? []).Select(ParsePool)];
                selector = ParseSelector(parseResult.GetValue(dataPlaneSelector)!);
                configuration = parseResult.GetValue(inCluster)
                    ? KubernetesClientConfiguration.InCluster()
                    : KubernetesClientConfiguration.Load(parseResult.GetValue(kubeconfig));
                lease = GoDuration.Parse(parseResult.GetValue(leaseDuration)!, "--leader-elect-lease-duration");
                renew = GoDuration.Parse(parseResult.GetValue(renewDeadline)!, "--leader-elect-renew-deadline");
                retry = GoDuration.Parse(parseResult.GetValue(retryPeriod)!, "--leader-elect-retry-period");
                quiet = GoDuration.Parse(parseResult.GetValue(debounce)!, "--debounce");
                bindings = DataPlaneBindings.From(parseResult.GetValue(dataPlaneAddress)!, parseResult.GetValue(dataPlaneBind));
            }
            catch (Exception ex) when (ex is KubeconfigException or FormatException)
            {
                await error.WriteLineAsync($"controller: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            LeaderElectionOptions? election = null;
            if (parseResult.GetValue(leaderElect))
            {
                election = new LeaderElectionOptions
                {
                    LeaseName = parseResult.GetValue(leaseName)!,
                    LeaseNamespace = parseResult.GetValue(leaseNamespace) ?? configuration.Namespace,
                    Identity = parseResult.GetValue(identity) ?? $"{Environment.MachineName}_{Guid.NewGuid().ToString("N")[..8]}",
                    LeaseDuration = lease,
                    RenewDeadline = renew,
                    RetryPeriod = retry,
                };
                if (!(lease > renew && renew > retry * 1.2 && retry > TimeSpan.Zero))
                {
                    await error.WriteLineAsync("controller: leader election needs lease-duration > renew-deadline > 1.2 × retry-period > 0").ConfigureAwait(false);
                    return 2;
                }
            }

            using var client = new KubernetesClient(configuration);
            var host = new ControllerHost(client, new ControllerHostOptions
            {
                Translator = new TranslatorOptions
                {
                    ControllerName = parseResult.GetValue(controllerName)!,
                    DataPlaneSuppliesMissingCertificates = parseResult.GetValue(devCertificates),
                    AddressPools = pools,
                },
                Provisioning = parseResult.GetValue(provision)
                    ? new GatewayProvisionerOptions
                    {
                        DataPlaneSelector = selector,
                        LocalLoadBalancer = parseResult.GetValue(localLoadBalancer)
                            ? new LocalLoadBalancerOptions { Pools = pools, SharedAddress = bindings.Address }
                            : null,
                    }
                    : null,
                LeaderElection = election,
                Debounce = quiet,
                Log = StderrLog,
            });
            var attach = attachDataPlane ?? (parseResult.GetValue(dataPlane)
                ? ControllerDataPlane.Create(bindings, parseResult.GetValue(allowedOrigins) ?? [], (m, e) => StderrLog(ControllerLogLevel.Information, m, e), (m, e) => StderrLog(ControllerLogLevel.Error, m, e))
                : null);
            var serving = attach is null ? Task.CompletedTask : attach(host, cancellationToken);
            await Task.WhenAll(host.RunAsync(cancellationToken), serving).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>Parses an <c>--address-pool</c> CIDR.</summary>
    /// <exception cref="FormatException">Not ADDRESS/PREFIX.</exception>
    internal static IPNetwork ParsePool(string text) =>
        IPNetwork.TryParse(text, out var network) && text.Contains('/', StringComparison.Ordinal)
            ? network
            : throw new FormatException($"--address-pool: '{text}' is not a CIDR such as 192.0.2.0/24");

    /// <summary>Parses <c>KEY=VALUE,…</c> labels.</summary>
    /// <exception cref="FormatException">An entry is not KEY=VALUE, or none is given.</exception>
    internal static Dictionary<string, string> ParseSelector(string text)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException($"--data-plane-selector: '{pair}' is not KEY=VALUE");
            }

            labels[pair[..equals]] = pair[(equals + 1)..];
        }

        return labels.Count > 0 ? labels : throw new FormatException("--data-plane-selector: no label given; the Services would select no pod");
    }

    private static void StderrLog(ControllerLogLevel level, string message, Exception? exception)
    {
        var tag = level switch
        {
            ControllerLogLevel.Debug => "debug",
            ControllerLogLevel.Information => "info ",
            ControllerLogLevel.Warning => "warn ",
            _ => "error",
        };
        var time = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        Console.Error.WriteLine(exception is null ? $"{time} {tag} {message}" : $"{time} {tag} {message}: {exception}");
    }
}

/// <summary>Parses the duration syntax of Kubernetes components' flags (Go's time.ParseDuration, one unit).</summary>
internal static class GoDuration
{
    public static TimeSpan Parse(string text, string option)
    {
        var units = new (string Suffix, double Milliseconds)[] { ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000) };
        foreach (var (suffix, ms) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal) &&
                double.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return TimeSpan.FromMilliseconds(value * ms);
            }
        }

        throw new FormatException($"{option}: '{text}' is not a duration such as 500ms, 15s or 1m");
    }
}
