using System.Collections.Concurrent;
using Switchyard.Controller.Hosting;
using Switchyard.Ir;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.Config;

namespace Switchyard.Controller.Tests.Integration;

/// <summary>The data-plane seam: <see cref="GatewaySnapshotPublisher"/> alone, and fed by a running <see cref="ControllerHost"/>.</summary>
public sealed class SnapshotSeamTests
{
    [Fact]
    public void LateSubscriber_ReceivesCurrentSnapshotsFirst_ThenOnlyRealChanges()
    {
        var publisher = new GatewaySnapshotPublisher();
        publisher.Publish([Snapshot("default/a", "10.0.0.1"), Snapshot("default/b", "10.0.0.2")]);
        var seen = new List<GatewaySnapshotChange>();
        using var subscription = publisher.Subscribe(new Observer(seen.Add));

        Assert.Equal(["default/a", "default/b"], seen.Select(c => c.Gateway));

        // An equal snapshot (a new instance) is no change; a different one is; a missing one is a removal.
        publisher.Publish([Snapshot("default/a", "10.0.0.1"), Snapshot("default/b", "10.0.0.9")]);
        publisher.Publish([Snapshot("default/b", "10.0.0.9")]);

        Assert.Equal(["default/a", "default/b", "default/b", "default/a"], seen.Select(c => c.Gateway));
        Assert.Equal("10.0.0.9", seen[2].Snapshot!.Addresses[0]);
        Assert.Null(seen[3].Snapshot);
        Assert.Equal(3, publisher.Version);
        Assert.False(publisher.TryGet("default/a", out _));
    }

    [Fact]
    public void ThrowingObserver_DoesNotStopOthers()
    {
        var publisher = new GatewaySnapshotPublisher();
        var failures = 0;
        publisher.ObserverFailed += _ => failures++;
        using var bad = publisher.Subscribe("default/a", _ => throw new InvalidOperationException("boom"));
        GatewaySnapshot? got = null;
        using var good = publisher.Subscribe("default/a", s => got = s);

        publisher.Publish([Snapshot("default/a", "10.0.0.1")]);

        Assert.Equal(1, failures);
        Assert.Equal("10.0.0.1", got!.Addresses[0]);
    }

    private static GatewaySnapshot Snapshot(string name, string address) => new() { Name = name, Addresses = [address] };
}

/// <summary>A <see cref="ControllerHost"/> in this process, against the API server double as a process.</summary>
[Collection(ProcessCollection.Name)]
public sealed class ControllerHostSnapshotTests
{
    [Fact]
    public async Task ControllerHost_PublishesTheQuickstartSnapshot_AndEachChange()
    {
        using var api = await DevApiServerProcess.StartAsync();
        using var client = new KubernetesClient(KubernetesClientConfiguration.FromKubeconfigFile(api.Kubeconfig));
        var host = new ControllerHost(client, new ControllerHostOptions
        {
            Translator = new() { DataPlaneSuppliesMissingCertificates = true },
        });
        var changes = new BlockingCollection<GatewaySnapshotChange>();
        using var subscription = host.Snapshots.Subscribe(new Observer(changes.Add));
        using var stop = new CancellationTokenSource();
        var run = host.RunAsync(stop.Token);
        try
        {
            var first = Take(changes, api);
            Assert.Equal("default/quickstart", first.Gateway);
            var wt = Assert.Single(Assert.Single(first.Snapshot!.Listeners).WebTransportRoutes);
            Assert.Equal(["video", "audio", "chat"], wt.Rules.Select(r => r.Matches[0].TrackType));
            Assert.All(wt.Rules, r => Assert.Single(Assert.Single(r.Backends).Endpoints));

            // The audio backend's endpoints go away: a new snapshot without them, on the same seam.
            api.Kubectl("delete", "endpointslice", "audio-processor-local");
            var second = Take(changes, api);
            var audio = Assert.Single(Assert.Single(second.Snapshot!.Listeners).WebTransportRoutes).Rules[1];
            Assert.Empty(Assert.Single(audio.Backends).Endpoints);
            Assert.True(host.Snapshots.TryGet("default/quickstart", out var current));
            Assert.Same(second.Snapshot, current);

            // The Gateway is deleted: the data plane is told to stop serving it.
            api.Kubectl("delete", "gateway", "quickstart");
            var third = Take(changes, api);
            Assert.Equal("default/quickstart", third.Gateway);
            Assert.Null(third.Snapshot);
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }
    }

    private static GatewaySnapshotChange Take(BlockingCollection<GatewaySnapshotChange> changes, DevApiServerProcess api)
    {
        Assert.True(changes.TryTake(out var change, TimeSpan.FromSeconds(20)), "no snapshot change within 20 s\n" + api.Server.Describe());
        return change;
    }
}

/// <summary>An observer made of a delegate.</summary>
internal sealed class Observer(Action<GatewaySnapshotChange> onNext) : IObserver<GatewaySnapshotChange>
{
    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }

    public void OnNext(GatewaySnapshotChange value) => onNext(value);
}
