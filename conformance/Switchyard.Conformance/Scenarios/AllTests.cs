namespace Switchyard.Conformance.Scenarios;

/// <summary>Every test of the suite, in upstream's order within each group.</summary>
internal static class AllTests
{
    public static IReadOnlyList<ConformanceTest> Get() =>
        [
            .. GatewayTests.All(), .. HttpRouteTests.All(), .. ExtendedTests.All(),
            .. HttpProtocolFeatureTests.All(),
            .. ListenerSetTests.All(),
            .. FrontendTlsTests.All(),
            .. BackendTlsPolicyTests.All(),
            .. GatewayAddressTests.All(),
            .. RetryTests.All(),
        ];

    /// <summary>Switchyard's own profiles' tests (<see cref="SwitchyardFeatures"/>), run after GATEWAY-HTTP.</summary>
    public static IReadOnlyList<ConformanceTest> Switchyard() => [.. WebTransportRouteTests.All()];
}
