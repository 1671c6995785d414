using System.CommandLine;
using Switchyard.Conformance;

namespace Switchyard.Cli;

/// <summary>
/// <c>switchyard conformance</c>: runs the Gateway API v1.6.1 GATEWAY-HTTP conformance tests, in-process (API server
/// double, controller and data plane in this process) or against a cluster, and writes upstream's ConformanceReport.
/// </summary>
internal static class ConformanceCommand
{
    public static Command Create()
    {
        var reportOutput = new Option<FileInfo?>("--report-output") { Description = "Write the ConformanceReport YAML to this file." };
        var kubeconfig = new Option<string?>("--kubeconfig")
        {
            Description = "Run against the cluster of this kubeconfig (the implementation must be installed; untested here). Default: in-process.",
        };
        var gatewayClass = new Option<string>("--gateway-class")
        {
            Description = "The GatewayClass under test (created in-process; must exist in a cluster).",
            DefaultValueFactory = _ => "switchyard-conformance",
        };
        var runTest = new Option<string?>("--run-test") { Description = "Run only this test, by its upstream name (for example HTTPRouteSimpleSameNamespace)." };
        var features = new Option<string[]>("--supported-features")
        {
            Description = "Extended features to test (comma-separated or repeated). Default: the features Switchyard claims.",
            AllowMultipleArgumentsPerToken = true,
        };
        var echoImage = new Option<string>("--echo-image")
        {
            Description = "The echo backend image Deployments run in a cluster.",
            DefaultValueFactory = _ => "registry.k8s.io/gateway-api/echo-basic:v1.5.1",
        };
        var profile = new Option<string?>("--profile")
        {
            Description = $"Run only this profile's tests: GATEWAY-HTTP or {SwitchyardFeatures.WebTransportProfile}. Default: both.",
        };
        profile.AcceptOnlyFromAmong("GATEWAY-HTTP", SwitchyardFeatures.WebTransportProfile);
        var list = new Option<bool>("--list") { Description = "List the tests and exit." };
        var usableAddresses = new Option<string[]>("--usable-network-addresses")
        {
            Description = "Addresses the implementation can assign to a Gateway, [TYPE=]VALUE, comma-separated (GatewayStaticAddresses; default IPAddress=127.0.0.2, which the in-process load balancer's pool holds).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var unusableAddresses = new Option<string[]>("--unusable-network-addresses")
        {
            Description = "Addresses the implementation cannot assign to a Gateway, [TYPE=]VALUE, comma-separated (default IPAddress=203.0.113.1, TEST-NET-3).",
            Arity = ArgumentArity.ZeroOrMore,
        };

        var command = new Command("conformance", "Run the Gateway API GATEWAY-HTTP conformance suite and Switchyard's WebTransportRoute scenarios, and write a ConformanceReport.")
        {
            reportOutput, kubeconfig, gatewayClass, runTest, features, profile, echoImage, list, usableAddresses, unusableAddresses,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            if (parseResult.GetValue(list))
            {
                foreach (var (name, core, needs) in ConformanceRunner.Tests)
                {
                    await output.WriteLineAsync($"{name,-52} {(core ? "core" : string.Join(" ", needs))}").ConfigureAwait(false);
                }

                foreach (var (name, testProfile, needs) in ConformanceRunner.SwitchyardTests)
                {
                    await output.WriteLineAsync($"{name,-52} {testProfile}: {string.Join(" ", needs)}").ConfigureAwait(false);
                }

                return 0;
            }

            var requested = parseResult.GetValue(features)?.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            var unknown = requested?.Where(f => !Features.Extended.Contains(f) && !Features.Core.Contains(f) && !SwitchyardFeatures.All.Contains(f)).ToList() ?? [];
            if (unknown.Count > 0)
            {
                await error.WriteLineAsync($"conformance: unknown features: {string.Join(", ", unknown)}").ConfigureAwait(false);
                return 2;
            }

            IReadOnlyList<NetworkAddress>? usable, unusable;
            try
            {
                usable = Addresses(parseResult.GetValue(usableAddresses));
                unusable = Addresses(parseResult.GetValue(unusableAddresses));
            }
            catch (FormatException ex)
            {
                await error.WriteLineAsync($"conformance: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            ConformanceReport report;
            try
            {
                report = await ConformanceRunner.RunAsync(new ConformanceOptions
                {
                    Kubeconfig = parseResult.GetValue(kubeconfig),
                    GatewayClassName = parseResult.GetValue(gatewayClass)!,
                    RunTest = parseResult.GetValue(runTest),
                    RunProfile = parseResult.GetValue(profile),
                    SupportedFeatures = requested is { Count: > 0 } ? requested : null,
                    EchoImage = parseResult.GetValue(echoImage)!,
                    UsableNetworkAddresses = usable ?? [NetworkAddress.DefaultUsable],
                    UnusableNetworkAddresses = unusable ?? [NetworkAddress.DefaultUnusable],
                    Implementation = new ReportImplementation { Version = VersionCommand.ProductVersion },
                    Log = line => error.WriteLine(line),
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ConformanceException or ArgumentException or Kubernetes.Config.KubeconfigException or Kubernetes.Client.KubernetesApiException or HttpRequestException)
            {
                await error.WriteLineAsync($"conformance: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            var yaml = report.ToYaml();
            if (parseResult.GetValue(reportOutput) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, yaml, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await output.WriteAsync(yaml).ConfigureAwait(false);
            }

            await error.WriteLineAsync($"conformance: GATEWAY-HTTP core {report.Core.Passed}/{report.Core.Passed + report.Core.Failed + report.Core.Skipped} passed, extended {report.Extended.Passed} passed, {report.Extended.Failed} failed; " +
                $"{SwitchyardFeatures.WebTransportProfile} {report.WebTransport.Passed} passed, {report.WebTransport.Failed} failed").ConfigureAwait(false);
            return report.Core.Failed + report.Extended.Failed + report.WebTransport.Failed == 0 ? 0 : 1;
        });
        return command;
    }

    /// <summary>Parses the comma-separated <c>[TYPE=]VALUE</c> lists; null when none was given.</summary>
    private static List<NetworkAddress>? Addresses(string[]? values)
    {
        var parsed = (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(NetworkAddress.Parse).ToList();
        return parsed.Count > 0 ? parsed : null;
    }
}
