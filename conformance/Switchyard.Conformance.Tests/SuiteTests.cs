using Xunit.Abstractions;

namespace Switchyard.Conformance.Tests;

/// <summary>Runs the whole in-process suite: the project's conformance claim.</summary>
public sealed class SuiteTests(ITestOutputHelper output)
{
    [Fact]
    public async Task InProcessSuite_CorePassesAndClaimedExtendedPass()
    {
        var report = await RunAsync(null);

        // Every core test ran and passed: GATEWAY-HTTP core 37/37.
        var core = report.Results.Where(r => r.Core).ToList();
        Assert.Equal(37, core.Count);
        Assert.All(core, r => Assert.True(r.Outcome == TestOutcome.Passed, $"{r.Name}: {r.Outcome} {r.Message}"));
        Assert.Equal(new ReportStatistics(37, 0, 0), report.Core);

        // Every claimed extended feature has tests, and all of them passed.
        Assert.Equal(0, report.Extended.Failed);
        Assert.Equal(0, report.Extended.Skipped);
        Assert.All(ConformanceRunner.ClaimedFeatures, f => Assert.Contains(report.Results, r => r.Features.Contains(f) && r.Outcome == TestOutcome.Passed));
        Assert.All(report.Results.Where(r => !r.Core && r.Outcome != TestOutcome.Skipped && r.Profile == ConformanceReport.Profile), r => Assert.All(r.Features, f => Assert.Contains(f, ConformanceRunner.ClaimedFeatures)));

        // Switchyard's own profile ran in the same suite, every test passed, and none counted in GATEWAY-HTTP.
        WebTransportProfileMustPass(report);
    }

    [Fact]
    public async Task InProcessSuite_WebTransportRouteProfileOnly_AllPassAndGatewayHttpIsNotRun()
    {
        var report = await RunAsync(SwitchyardFeatures.WebTransportProfile);
        WebTransportProfileMustPass(report);
        Assert.Equal(0, report.Core.Passed);
        Assert.Equal(0, report.Extended.Passed);
    }

    private static void WebTransportProfileMustPass(ConformanceReport report)
    {
        var wt = report.Results.Where(r => r.Profile == SwitchyardFeatures.WebTransportProfile).ToList();
        Assert.Equal(ConformanceRunner.SwitchyardTests.Count, wt.Count);
        Assert.True(wt.Count >= 8, $"{wt.Count} WebTransportRoute tests");
        Assert.All(wt, r => Assert.True(r.Outcome == TestOutcome.Passed, $"{r.Name}: {r.Outcome} {r.Message}"));
        Assert.All(wt, r => Assert.False(r.Core));
        Assert.Equal(new ReportStatistics(wt.Count, 0, 0), report.WebTransport);
        Assert.Contains("name: SWITCHYARD-WEBTRANSPORT", report.ToYaml(), StringComparison.Ordinal);
        Assert.Equal([SwitchyardFeatures.WebTransportRoute], report.SwitchyardSupportedFeatures);
    }

    private async Task<ConformanceReport> RunAsync(string? profile)
    {
        var lines = new List<string>();
        ConformanceReport report;
        try
        {
            report = await ConformanceRunner.RunAsync(new ConformanceOptions
            {
                Timeout = TimeSpan.FromSeconds(30),
                RunProfile = profile,
                Log = line =>
                {
                    lock (lines)
                    {
                        lines.Add(line);
                    }
                },
            }, CancellationToken.None);
        }
        finally
        {
            lock (lines)
            {
                foreach (var line in lines)
                {
                    output.WriteLine(line);
                }
            }
        }

        foreach (var line in report.ToYaml().Split('\n'))
        {
            output.WriteLine(line);
        }

        return report;
    }
}
