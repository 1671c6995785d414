using System.Globalization;
using System.Text;

namespace Switchyard.Conformance;

/// <summary>Who is being tested (the report's <c>implementation</c>).</summary>
public sealed record ReportImplementation
{
    /// <summary>Organization.</summary>
    public string Organization { get; init; } = "switchyard";

    /// <summary>Project.</summary>
    public string Project { get; init; } = "switchyard";

    /// <summary>Project URL.</summary>
    public string Url { get; init; } = "https://github.com/switchyard/switchyard";

    /// <summary>Version tested.</summary>
    public string Version { get; init; } = typeof(ReportImplementation).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Contacts.</summary>
    public IReadOnlyList<string> Contact { get; init; } = ["@switchyard/maintainers"];
}

/// <summary>How one test ended.</summary>
public enum TestOutcome
{
    /// <summary>Every check held.</summary>
    Passed,

    /// <summary>A check failed.</summary>
    Failed,

    /// <summary>Not run (a feature is not supported, or another test was selected).</summary>
    Skipped,
}

/// <summary>One test's result.</summary>
/// <param name="Name">Upstream's short name.</param>
/// <param name="Core">True for a core test.</param>
/// <param name="Features">Extended features it needs.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Duration">How long it ran.</param>
/// <param name="Message">Why it failed or was skipped; empty when it passed.</param>
/// <param name="Profile">The profile it reports under: GATEWAY-HTTP, or <see cref="SwitchyardFeatures.WebTransportProfile"/>.</param>
public sealed record TestResult(string Name, bool Core, IReadOnlyList<string> Features, TestOutcome Outcome, TimeSpan Duration, string Message, string Profile = ConformanceReport.Profile);

/// <summary>Passed, failed and skipped counts.</summary>
/// <param name="Passed">Tests that passed.</param>
/// <param name="Failed">Tests that failed.</param>
/// <param name="Skipped">Tests that were not run.</param>
public sealed record ReportStatistics(int Passed, int Failed, int Skipped)
{
    /// <summary>upstream's result word: success, failure or partial.</summary>
    public string Result => Failed > 0 ? "failure" : Skipped > 0 ? "partial" : "success";
}

/// <summary>
/// Upstream's <c>ConformanceReport</c> (apiVersion gateway.networking.k8s.io/v1) for the GATEWAY-HTTP profile, plus
/// the per-test results this suite keeps.
/// </summary>
public sealed record ConformanceReport
{
    /// <summary>The Gateway API version the suite ports.</summary>
    public const string GatewayApiVersion = "v1.6.1";

    /// <summary>The profile name.</summary>
    public const string Profile = "GATEWAY-HTTP";

    /// <summary>The implementation.</summary>
    public required ReportImplementation Implementation { get; init; }

    /// <summary>in-process or cluster.</summary>
    public required string Mode { get; init; }

    /// <summary>When the run ended (UTC).</summary>
    public required DateTimeOffset Date { get; init; }

    /// <summary>Every test's result.</summary>
    public required IReadOnlyList<TestResult> Results { get; init; }

    /// <summary>Extended features that were tested.</summary>
    public required IReadOnlyList<string> SupportedFeatures { get; init; }

    /// <summary>Switchyard's own features (<see cref="SwitchyardFeatures"/>) that were tested.</summary>
    public IReadOnlyList<string> SwitchyardSupportedFeatures { get; init; } = [];

    /// <summary>Extended features of the profile that were not.</summary>
    public IReadOnlyList<string> UnsupportedFeatures => [.. Features.Extended.Except(SupportedFeatures, StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>Core test counts.</summary>
    public ReportStatistics Core => Count(Results.Where(r => r.Core && r.Profile == Profile));

    /// <summary>Extended test counts (tests of supported features only).</summary>
    public ReportStatistics Extended => Count(Results.Where(r => !r.Core && r.Profile == Profile && r.Features.All(SupportedFeatures.Contains)));

    /// <summary>
    /// Counts of the SWITCHYARD-WEBTRANSPORT profile's tests (WebTransportRoute), reported as that profile's core
    /// because the profile has one feature; not part of GATEWAY-HTTP's counts.
    /// </summary>
    public ReportStatistics WebTransport => Count(Results.Where(r => r.Profile == SwitchyardFeatures.WebTransportProfile));

    /// <summary>The report as upstream's YAML, with per-test results appended as comments.</summary>
    public string ToYaml()
    {
        var sb = new StringBuilder();
        void L(string line) => sb.Append(line).Append('\n');
        L("apiVersion: gateway.networking.k8s.io/v1");
        L("kind: ConformanceReport");
        L($"date: \"{Date.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}\"");
        // HTTPRouteRetry's field exists only in the experimental channel: a report that claims it says so.
        L($"gatewayAPIChannel: {(SupportedFeatures.Contains("HTTPRouteRetry") ? "experimental" : "standard")}");
        L($"gatewayAPIVersion: {GatewayApiVersion}");
        L("implementation:");
        L("  contact:");
        foreach (var c in Implementation.Contact)
        {
            L($"  - {Quote(c)}");
        }

        L($"  organization: {Quote(Implementation.Organization)}");
        L($"  project: {Quote(Implementation.Project)}");
        L($"  url: {Quote(Implementation.Url)}");
        L($"  version: {Quote(Implementation.Version)}");
        L($"mode: {Quote(Mode)}");
        L("profiles:");
        L("- core:");
        Stats(Core, "    ");
        var extended = Extended;
        L("  extended:");
        Stats(extended, "    ");
        L(SupportedFeatures.Count == 0 ? "    supportedFeatures: []" : "    supportedFeatures:");
        foreach (var f in SupportedFeatures.Order(StringComparer.Ordinal))
        {
            L($"    - {f}");
        }

        L(UnsupportedFeatures.Count == 0 ? "    unsupportedFeatures: []" : "    unsupportedFeatures:");
        foreach (var f in UnsupportedFeatures)
        {
            L($"    - {f}");
        }

        L($"  name: {Profile}");
        L($"  summary: Core tests {Word(Core)}. Extended tests {Word(extended)}.");
        if (Results.Any(r => r.Profile == SwitchyardFeatures.WebTransportProfile))
        {
            // Switchyard's own profile, in the same shape; upstream's tools ignore a profile they do not know.
            var wt = WebTransport;
            L("- core:");
            Stats(wt, "    ");
            L(SwitchyardSupportedFeatures.Count == 0 ? "    supportedFeatures: []" : "    supportedFeatures:");
            foreach (var f in SwitchyardSupportedFeatures)
            {
                L($"    - {f}");
            }

            L($"  name: {SwitchyardFeatures.WebTransportProfile}");
            L($"  summary: Core tests {Word(wt)}.");
        }

        L("succeededProvisionalTests: []");
        L("# Results per test:");
        foreach (var r in Results)
        {
            L($"#   {r.Outcome,-7} {r.Name} ({(r.Core ? "core" : string.Join("+", r.Features))}, {r.Duration.TotalSeconds:0.0}s){(r.Message.Length == 0 ? "" : ": " + r.Message.ReplaceLineEndings(" "))}");
        }

        return sb.ToString();

        void Stats(ReportStatistics s, string indent)
        {
            L($"{indent}result: {s.Result}");
            L($"{indent}statistics:");
            L($"{indent}  Failed: {s.Failed}");
            L($"{indent}  Passed: {s.Passed}");
            L($"{indent}  Skipped: {s.Skipped}");
        }
    }

    private static string Word(ReportStatistics s) => s.Result switch
    {
        "success" => "succeeded",
        "failure" => $"failed with {s.Failed} test failures",
        _ => $"partially succeeded with {s.Skipped} test skips",
    };

    private static ReportStatistics Count(IEnumerable<TestResult> results)
    {
        var list = results.ToList();
        return new ReportStatistics(list.Count(r => r.Outcome == TestOutcome.Passed), list.Count(r => r.Outcome == TestOutcome.Failed), list.Count(r => r.Outcome == TestOutcome.Skipped));
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
