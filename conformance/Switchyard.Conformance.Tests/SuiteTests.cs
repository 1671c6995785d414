using Xunit.Abstractions;

namespace Switchyard.Conformance.Tests;

/// <summary>Runs the whole in-process suite: the project's conformance claim.</summary>
public sealed class SuiteTests(ITestOutputHelper output)
{
    [Fact]
    public async Task InProcessSuite_CorePassesAndClaimedExtendedPass()
    {
        var lines = new List<string>();
        ConformanceReport report;
        try
        {
            report = await ConformanceRunner.RunAsync(new ConformanceOptions
            {
                Timeout = TimeSpan.FromSeconds(30),
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

        // Every core test ran and passed: GATEWAY-HTTP core 37/37.
        var core = report.Results.Where(r => r.Core).ToList();
        Assert.Equal(37, core.Count);
        Assert.All(core, r => Assert.True(r.Outcome == TestOutcome.Passed, $"{r.Name}: {r.Outcome} {r.Message}"));
        Assert.Equal(new ReportStatistics(37, 0, 0), report.Core);

        // Every claimed extended feature has tests, and all of them passed.
        Assert.Equal(0, report.Extended.Failed);
        Assert.Equal(0, report.Extended.Skipped);
        Assert.All(ConformanceRunner.ClaimedFeatures, f => Assert.Contains(report.Results, r => r.Features.Contains(f) && r.Outcome == TestOutcome.Passed));
        Assert.All(report.Results.Where(r => !r.Core && r.Outcome != TestOutcome.Skipped), r => Assert.All(r.Features, f => Assert.Contains(f, ConformanceRunner.ClaimedFeatures)));
    }
}
