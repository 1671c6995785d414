using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.DevApiServer;
using Switchyard.Kubernetes.DevApiServer.Logs;

namespace Switchyard.Kubernetes.Tests.Client;

/// <summary><c>pods/NAME/log</c> on the double, read by our client and by the real kubectl.</summary>
public sealed class PodLogTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private readonly Logs _logs = new();
    private readonly TestServer _t;

    public PodLogTests()
    {
        _t = new TestServer { Options = new DevApiServerOptions { PodLogs = _logs } };
    }

    public async Task InitializeAsync()
    {
        await _t.InitializeAsync();
        await _t.Client.Resource(Pods).CreateAsync("default", Pod("echo-1"));
        await _t.Client.Resource(Pods).CreateAsync("default", Pod("silent"));
        _logs.Entries[("default", "echo-1")] = [new(T0, "first"), new(T0.AddSeconds(2), "second"), new(T0.AddSeconds(4), "third")];
    }

    public Task DisposeAsync() => _t.DisposeAsync();

    private static readonly ResourceType Pods = new("", "v1", "pods", "Pod", true);

    [Fact]
    public async Task Log_IsTheContainersLines_FilteredBySinceTime_WithTimestampsWhenAsked()
    {
        Assert.Equal("first\nsecond\nthird\n", await _t.Client.ReadPodLogAsync("default", "echo-1"));
        Assert.Equal("second\nthird\n", await _t.Client.ReadPodLogAsync("default", "echo-1", sinceTime: T0.AddSeconds(2)));

        var stamped = (await _t.Client.ReadPodLogAsync("default", "echo-1", sinceTime: T0.AddSeconds(3), timestamps: true)).TrimEnd('\n');
        var (time, line) = (stamped[..stamped.IndexOf(' ', StringComparison.Ordinal)], stamped[(stamped.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        Assert.Equal("third", line);
        Assert.Equal(T0.AddSeconds(4), DateTimeOffset.Parse(time, CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("tailLines=1", 200, "third\n")]
    [InlineData("limitBytes=8", 200, "first\nse")]
    [InlineData("follow=true", 400, null)]
    [InlineData("sinceSeconds=10&sinceTime=2026-12-06T12:00:00Z", 400, null)]
    [InlineData("sinceTime=yesterday", 400, null)]
    [InlineData("tailLines=-1", 400, null)]
    public async Task Parameters_AreHonouredOrRefused(string query, int status, string? body)
    {
        using var http = new HttpClient { BaseAddress = _t.Server.BaseAddress };
        using var response = await http.GetAsync(new Uri($"/api/v1/namespaces/default/pods/echo-1/log?{query}", UriKind.Relative));
        Assert.Equal(status, (int)response.StatusCode);
        if (body is not null)
        {
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(body, await response.Content.ReadAsStringAsync());
        }
        else
        {
            var statusObject = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("Status", statusObject["kind"]?.GetValue<string>());
            Assert.Equal("BadRequest", statusObject["reason"]?.GetValue<string>());
        }
    }

    [Fact]
    public async Task AMissingPodIs404_AndAPodWithoutARunningContainerIs400()
    {
        var missing = await Assert.ThrowsAsync<KubernetesApiException>(() => _t.Client.ReadPodLogAsync("default", "absent"));
        Assert.True(missing.IsNotFound);
        var silent = await Assert.ThrowsAsync<KubernetesApiException>(() => _t.Client.ReadPodLogAsync("default", "silent"));
        Assert.Equal(400, silent.Code);
    }

    [Fact]
    public async Task Kubectl_ReadsTheLog()
    {
        var dir = Directory.CreateTempSubdirectory("kubectl-logs-").FullName;
        try
        {
            var kubeconfig = Path.Combine(dir, "kubeconfig");
            _t.Server.WriteKubeconfig(kubeconfig);
            Assert.Equal("first\nsecond\nthird\n", await KubectlAsync(dir, kubeconfig, "logs", "echo-1", "-n", "default"));
            Assert.Equal("third\n", await KubectlAsync(dir, kubeconfig, "logs", "echo-1", "-n", "default", "--tail=1"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<string> KubectlAsync(string dir, string kubeconfig, params string[] args)
    {
        var (code, stdout, stderr) = await Kubectl.KubectlProcess.RunAsync(dir, kubeconfig, args);
        Assert.True(code == 0, $"kubectl {string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }

    private static JsonObject Pod(string name) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["app"] = "echo" } },
        ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "echo", ["image"] = "echo" }) },
    };

    private sealed class Logs : IPodLogSource
    {
        public Dictionary<(string, string), IReadOnlyList<PodLogEntry>> Entries { get; } = [];

        public IReadOnlyList<PodLogEntry>? Read(string @namespace, string pod, string? container) => Entries.GetValueOrDefault((@namespace, pod));
    }
}
