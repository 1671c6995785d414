namespace Switchyard.Conformance;

/// <summary>Settings of a conformance run.</summary>
public sealed record ConformanceOptions
{
    /// <summary>A kubeconfig for a real cluster; null runs everything in-process.</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>The GatewayClass under test. In-process it is created; against a cluster it must exist.</summary>
    public string GatewayClassName { get; init; } = "switchyard-conformance";

    /// <summary>Run only this test (upstream's <c>--run-test</c>); null runs all.</summary>
    public string? RunTest { get; init; }

    /// <summary>Run only the tests of this profile (<c>GATEWAY-HTTP</c> or <c>SWITCHYARD-WEBTRANSPORT</c>); null runs all.</summary>
    public string? RunProfile { get; init; }

    /// <summary>Extended features to test; null means the features Switchyard claims (<see cref="ConformanceRunner.ClaimedFeatures"/>).</summary>
    public IReadOnlyCollection<string>? SupportedFeatures { get; init; }

    /// <summary>The echo image Deployments run against a real cluster.</summary>
    public string EchoImage { get; init; } = SuiteManifests.DefaultEchoImage;

    /// <summary>Addresses the implementation can assign to a Gateway (GatewayStaticAddresses). Default 127.0.0.2, which
    /// the in-process load balancer's pool holds; against a cluster, give an address of its load balancer's pool.</summary>
    public IReadOnlyList<NetworkAddress> UsableNetworkAddresses { get; init; } = [NetworkAddress.DefaultUsable];

    /// <summary>Addresses the implementation cannot assign to a Gateway. Default 203.0.113.1 (TEST-NET-3).</summary>
    public IReadOnlyList<NetworkAddress> UnusableNetworkAddresses { get; init; } = [NetworkAddress.DefaultUnusable];

    /// <summary>How long status and traffic may take to converge. Default 60 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Consecutive good answers that mean traffic has converged (upstream: 3).</summary>
    public int RequiredConsecutiveSuccesses { get; init; } = 3;

    /// <summary>The implementation named in the report.</summary>
    public ReportImplementation Implementation { get; init; } = new();

    /// <summary>Progress lines; null discards them.</summary>
    public Action<string>? Log { get; init; }
}
