using System.Diagnostics;
using System.Text.Json.Nodes;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.LeaderElection;

namespace Switchyard.Kubernetes.Tests.LeaderElection;

public sealed class LeaderElectorTests : IAsyncLifetime
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RetryPeriod = TimeSpan.FromMilliseconds(300);
    private readonly TestServer _t = new();

    public Task InitializeAsync() => _t.InitializeAsync();

    public Task DisposeAsync() => _t.DisposeAsync();

    private sealed class Candidate
    {
        public required string Id { get; init; }

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenSource Cts { get; } = new();

        public LeaderElector Elector { get; set; } = null!;

        public Task Run { get; set; } = Task.CompletedTask;
    }

    private Candidate Start(string id, bool releaseOnCancel)
    {
        var c = new Candidate { Id = id };
        c.Elector = new LeaderElector(_t.Client.Resource(ResourceType.Leases), new LeaderElectionConfig
        {
            LeaseName = "switchyard-controller",
            LeaseNamespace = "default",
            Identity = id,
            LeaseDuration = LeaseDuration,
            RenewDeadline = TimeSpan.FromSeconds(1.5),
            RetryPeriod = RetryPeriod,
            ReleaseOnCancel = releaseOnCancel,
            OnStartedLeading = _ =>
            {
                c.Started.TrySetResult();
                return Task.CompletedTask;
            },
            OnStoppedLeading = () => c.Stopped.TrySetResult(),
        });
        c.Run = c.Elector.RunAsync(c.Cts.Token);
        return c;
    }

    [Fact]
    public async Task TwoCandidates_ExactlyOneLeads()
    {
        var a = Start("a", true);
        var b = Start("b", true);
        var first = await Task.WhenAny(a.Started.Task, b.Started.Task).WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(LeaseDuration + RetryPeriod);
        Assert.True(a.Elector.IsLeader ^ b.Elector.IsLeader);
        var leader = a.Elector.IsLeader ? a : b;
        Assert.Same(first, leader.Started.Task);
        var lease = await _t.Client.Resource(ResourceType.Leases).GetAsync("default", "switchyard-controller");
        Assert.Equal(leader.Id, lease.Str("spec.holderIdentity"));
        Assert.Equal("2", lease.Str("spec.leaseDurationSeconds"));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", lease.Str("spec.renewTime"));
        await a.Cts.CancelAsync();
        await b.Cts.CancelAsync();
        await Task.WhenAll(a.Run, b.Run).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task LeaderCrashes_OtherTakesOverWithinLeaseDurationPlusRetry()
    {
        var a = Start("a", releaseOnCancel: false);
        await a.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var b = Start("b", releaseOnCancel: false);

        // Wait until b has read the lease at least once (its first GET can be slow on a loaded machine).
        for (var waited = Stopwatch.StartNew(); b.Elector.ObservedLeader is null && waited.Elapsed < TimeSpan.FromSeconds(10);)
        {
            await Task.Delay(20);
        }

        await Task.Delay(RetryPeriod * 2);
        Assert.False(b.Elector.IsLeader);
        Assert.Equal("a", b.Elector.ObservedLeader);

        // A crash: a stops renewing and does not release.
        await a.Cts.CancelAsync();
        await a.Run.WaitAsync(TimeSpan.FromSeconds(10));
        var sw = Stopwatch.StartNew();
        await b.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // b polls a live holder every retryPeriod, so it saw the last renewal at most one retryPeriod late, and it
        // wakes when that lease expires: leaseDuration + retryPeriod, plus scheduling slack for a busy CI box.
        Assert.True(sw.Elapsed <= LeaseDuration + RetryPeriod + TimeSpan.FromMilliseconds(400), $"took {sw.Elapsed}");
        Assert.True(sw.Elapsed >= LeaseDuration - RetryPeriod, $"took over too early: {sw.Elapsed}");
        var lease = await _t.Client.Resource(ResourceType.Leases).GetAsync("default", "switchyard-controller");
        Assert.Equal("b", lease.Str("spec.holderIdentity"));
        Assert.Equal("1", lease.Str("spec.leaseTransitions"));
        await b.Cts.CancelAsync();
        await b.Run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task LeaderReleases_EmptyHolderAndOtherTakesOverQuickly()
    {
        var a = Start("a", releaseOnCancel: true);
        await a.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var b = Start("b", releaseOnCancel: true);
        await Task.Delay(RetryPeriod * 2);
        await a.Cts.CancelAsync();
        await a.Run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(a.Stopped.Task.IsCompleted);
        var sw = Stopwatch.StartNew();
        await b.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(sw.Elapsed < LeaseDuration, $"took {sw.Elapsed}");
        await b.Cts.CancelAsync();
        await b.Run.WaitAsync(TimeSpan.FromSeconds(10));
        var lease = await _t.Client.Resource(ResourceType.Leases).GetAsync("default", "switchyard-controller");
        Assert.Equal("", lease.Str("spec.holderIdentity"));
        Assert.Equal("1", lease.Str("spec.leaseDurationSeconds"));
    }

    [Fact]
    public async Task LeaseStolenBehindLeadersBack_LeaderStopsLeading()
    {
        var a = Start("a", releaseOnCancel: false);
        await a.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var leases = _t.Client.Resource(ResourceType.Leases);
        while (true)
        {
            // The leader renews concurrently, so this conditional write may lose a race: retry as any client would.
            var lease = await leases.GetAsync("default", "switchyard-controller");
            lease["spec"]!["holderIdentity"] = "intruder";
            lease["spec"]!["leaseDurationSeconds"] = 60;
            try
            {
                await leases.ReplaceAsync("default", "switchyard-controller", lease);
                break;
            }
            catch (KubernetesApiException ex) when (ex.IsConflict)
            {
            }
        }
        await a.Stopped.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(a.Elector.IsLeader);
        await a.Run.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Config_RejectsTimingsThatBreakClientGoRule()
    {
        var bad = new LeaderElectionConfig { LeaseName = "l", LeaseNamespace = "n", Identity = "i", LeaseDuration = TimeSpan.FromSeconds(5), RenewDeadline = TimeSpan.FromSeconds(5) };
        Assert.Throws<ArgumentException>(bad.Validate);
        var bad2 = bad with { LeaseDuration = TimeSpan.FromSeconds(15), RenewDeadline = TimeSpan.FromSeconds(2), RetryPeriod = TimeSpan.FromSeconds(2) };
        Assert.Throws<ArgumentException>(bad2.Validate);
        (bad with { LeaseDuration = TimeSpan.FromSeconds(15), RenewDeadline = TimeSpan.FromSeconds(10) }).Validate();
    }
}
