using System.Net;
using System.Text.Json.Nodes;
using Switchyard.Conformance.Backends;
using Switchyard.Conformance.Kube;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.DevApiServer;
using Switchyard.Kubernetes.DevApiServer.Logs;

namespace Switchyard.Conformance.Tests;

/// <summary>Mirror checks against a cluster: echo pods' request lines read through <c>pods/NAME/log</c>.</summary>
public sealed class PodLogTests
{
    [Theory]
    // Go's log package puts a date before the message; the API's timestamps=true puts its own before that.
    [InlineData("2026-12-06T12:00:01.5Z 2026/12/06 12:00:01 Echoing back request made to /mirror?x=1 to client (10.0.0.7:41234)", "/mirror?x=1", "10.0.0.7:41234")]
    [InlineData("2026-12-06T12:00:01Z Echoing back request made to / to client ([::1]:80)", "/", "[::1]:80")]
    public void RequestLines_AreParsed(string line, string target, string client)
    {
        Assert.True(EchoPodLogs.TryParse(line, "pod", "ns", out var entry));
        Assert.Equal(target, entry.Path);
        Assert.Equal(client, entry.Client);
        Assert.Null(entry.Headers);
        Assert.Equal("pod", entry.Pod);
    }

    [Theory]
    [InlineData("2026-12-06T12:00:01Z Starting server, listening on port 3000 (http)")]
    [InlineData("Echoing back request made to /x to client (1.2.3.4:5)")]
    [InlineData("")]
    public void OtherLines_AreNotRequests(string line) => Assert.False(EchoPodLogs.TryParse(line, "pod", "ns", out _));

    [Fact]
    public async Task EchoPodRequests_AreReadFromTheLogsOfTheBackendsPods()
    {
        const string Ns = "gateway-conformance-infra";
        var address = new IPAddress([127, 76, (byte)Random.Shared.Next(256), 9]);
        var mirror = new EchoPod("infra-backend-v2-abc-12345", Ns, address);
        await using var echo = await EchoServer.StartAsync([mirror], CancellationToken.None);
        await using var server = new DevApiServer(new DevApiServerOptions { PodLogs = new EchoLogs(echo) });
        await server.StartAsync(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = new KubernetesClient(new HttpClient { BaseAddress = server.BaseAddress });
        await client.Resource(ResourceType.Namespaces).CreateAsync(null, new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = Ns } });
        var pods = client.Resource(KubeObjects.Pods);
        await pods.CreateAsync(Ns, Pod(mirror.Name, "infra-backend-v2"));
        await pods.CreateAsync(Ns, Pod("infra-backend-v2-abc-pending", "infra-backend-v2")); // no container runs: skipped
        await pods.CreateAsync(Ns, Pod("infra-backend-v1-abc-12345", "infra-backend-v1"));

        var since = DateTimeOffset.UtcNow;
        using (var http = new HttpClient())
        using (var response = await http.GetAsync(new Uri($"http://{address}:{EchoServer.Ports[0]}/mirror?n=1")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var entry = Assert.Single(await EchoPodLogs.ReadAsync(client, "infra-backend-v2", Ns, since, CancellationToken.None));
        Assert.Equal("/mirror?n=1", entry.Path);
        Assert.Equal(mirror.Name, entry.Pod);
        Assert.Empty(await EchoPodLogs.ReadAsync(client, "infra-backend-v1", Ns, since, CancellationToken.None));

        // sinceTime travels in whole seconds; entries from before `since` within the same second are still left out.
        Assert.Empty(await EchoPodLogs.ReadAsync(client, "infra-backend-v2", Ns, DateTimeOffset.UtcNow, CancellationToken.None));
    }

    private static JsonObject Pod(string name, string app) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["app"] = app } },
        ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = app, ["image"] = "echo-basic" }) },
    };

    private sealed class EchoLogs(EchoServer echo) : IPodLogSource
    {
        public IReadOnlyList<PodLogEntry>? Read(string @namespace, string pod, string? container) => echo.PodLog(pod, @namespace);
    }
}
