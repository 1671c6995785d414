using System.Diagnostics;
using System.Text.Json.Nodes;
using Switchyard.Kubernetes.Client;

namespace Switchyard.Kubernetes.Tests.Kubectl;

/// <summary>The double checked by a client nobody here wrote: the real kubectl 1.32 at /usr/bin/kubectl.</summary>
public sealed class KubectlTests : IAsyncLifetime
{
    private readonly TestServer _t = new();
    private string _dir = "";
    private string _kubeconfig = "";

    public async Task InitializeAsync()
    {
        await _t.InitializeAsync();
        _dir = Directory.CreateTempSubdirectory("kubectl-").FullName;
        _kubeconfig = Path.Combine(_dir, "kubeconfig");
        _t.Server.WriteKubeconfig(_kubeconfig);
    }

    public async Task DisposeAsync()
    {
        await _t.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => KubectlProcess.RunAsync(_dir, _kubeconfig, args);

    private async Task<string> OkAsync(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);
        Assert.True(code == 0, $"kubectl {string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }

    private string Write(string name, string yaml)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    private const string WidgetYaml = """
        apiVersion: test.switchyard.dev/v1
        kind: Widget
        metadata:
          name: w1
          namespace: default
          labels:
            app: demo
        spec:
          size: 3
          tags: [a, b]
        """;

    [Fact]
    public async Task ApplyCrdThenCustomResource_GetJsonpathUpdateDelete()
    {
        var crd = Write("crd.json", TestServer.WidgetCrd().ToJsonString());
        Assert.Equal("customresourcedefinition.apiextensions.k8s.io/widgets.test.switchyard.dev created\n", await OkAsync("apply", "--validate=false", "-f", crd));
        // kubectl wait watches the one object through a metadata.name field selector.
        Assert.Equal("customresourcedefinition.apiextensions.k8s.io/widgets.test.switchyard.dev condition met\n",
            await OkAsync("wait", "--for=condition=Established", "crd/widgets.test.switchyard.dev", "--timeout=15s"));

        var widget = Write("w.yaml", WidgetYaml);
        Assert.Equal("widget.test.switchyard.dev/w1 created\n", await OkAsync("apply", "--validate=false", "-f", widget));

        // Server-side Table: Name, the CRD's additionalPrinterColumns (a filter JSONPath among them), Age.
        Assert.Equal("widget.test.switchyard.dev/w1 patched\n", await OkAsync("patch", "widget", "w1", "--subresource=status", "--type=merge",
            "-p", """{"status":{"conditions":[{"type":"Other","status":"False"},{"type":"Ready","status":"True"}]}}"""));
        var table = await OkAsync("get", "widgets", "-A");
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^NAMESPACE\s+NAME\s+SIZE\s+COLOR\s+READY\s+AGE$", lines[0]);
        Assert.Matches(@"^default\s+w1\s+3\s+red\s+True\s+\d+s$", lines[1]);
        Assert.Matches(@"^w1\s+3\s+red\s+True\s+\d+s\s+app=demo$", (await OkAsync("get", "wd", "w1", "--show-labels")).Split('\n')[1]);

        Assert.Equal("3 red 1 demo", await OkAsync("get", "wd", "w1", "-o", "jsonpath={.spec.size} {.spec.color} {.metadata.generation} {.metadata.labels.app}"));
        Assert.Equal("widget.test.switchyard.dev/w1 patched\n", await OkAsync("patch", "wd", "w1", "--type=json", "-p", """[{"op":"add","path":"/spec/tags/-","value":"z"}]"""));
        Assert.Equal("a b z", await OkAsync("get", "wd", "w1", "-o", "jsonpath={.spec.tags[*]}"));

        // Re-apply with a change: kubectl GETs, then sends a merge patch carrying last-applied-configuration.
        File.WriteAllText(widget, WidgetYaml.Replace("size: 3", "size: 5", StringComparison.Ordinal).Replace("tags: [a, b]", "tags: [c]", StringComparison.Ordinal));
        Assert.Equal("widget.test.switchyard.dev/w1 configured\n", await OkAsync("apply", "--validate=false", "-f", widget));
        var live = await _t.Client.Resource(TestServer.Widgets).GetAsync("default", "w1");
        Assert.Equal("5", live.Str("spec.size"));
        Assert.Equal("""["c"]""", live["spec"]!["tags"]!.ToJsonString());
        Assert.Equal(3, live.Generation()); // create, json patch, apply
        Assert.Contains("\"size\":5", live["metadata"]!["annotations"]!["kubectl.kubernetes.io/last-applied-configuration"]!.ToString(), StringComparison.Ordinal);

        Assert.Equal("widget.test.switchyard.dev/w1 unchanged\n", await OkAsync("apply", "--validate=false", "-f", widget));

        // Schema errors reach kubectl as the server's 422 message.
        var bad = Write("bad.yaml", WidgetYaml.Replace("size: 3", "size: 0", StringComparison.Ordinal).Replace("w1", "w2", StringComparison.Ordinal));
        var (code, _, err) = await RunAsync("apply", "--validate=false", "-f", bad);
        Assert.NotEqual(0, code);
        Assert.Contains("spec.size", err, StringComparison.Ordinal);

        // Server-side apply (approximated by the double as a merge patch that can create).
        var ssa = Write("ssa.yaml", WidgetYaml.Replace("w1", "w3", StringComparison.Ordinal));
        Assert.Equal("widget.test.switchyard.dev/w3 serverside-applied\n", await OkAsync("apply", "--server-side", "--validate=false", "-f", ssa));
        Assert.Equal("3", await OkAsync("get", "wd", "w3", "-o", "jsonpath={.spec.size}"));

        Assert.Matches(@"^NAME\s+CREATED AT\nwidgets\.test\.switchyard\.dev\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$", await OkAsync("get", "crd"));

        Assert.Equal("widget.test.switchyard.dev \"w1\" deleted\n", await OkAsync("delete", "-f", widget));
        Assert.Null(await _t.Client.Resource(TestServer.Widgets).TryGetAsync("default", "w1"));
    }

    [Fact]
    public async Task ApplyService_StrategicMergeUpdateAndJsonOutput()
    {
        const string svc = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              selector:
                app: web
              ports:
              - name: http
                port: 80
                targetPort: 8080
            """;
        var path = Write("svc.yaml", svc);
        Assert.Equal("service/web created\n", await OkAsync("apply", "--validate=false", "-f", path));
        var ip = await OkAsync("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}");
        Assert.Matches(@"^10\.96\.\d+\.\d+$", ip);
        var wide = (await OkAsync("get", "svc", "-o", "wide")).Split('\n');
        Assert.Matches(@"^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR$", wide[0]);
        Assert.Matches($@"^web\s+ClusterIP\s+{System.Text.RegularExpressions.Regex.Escape(ip)}\s+<none>\s+80/TCP\s+\d+s\s+app=web$", wide[1]);

        File.WriteAllText(path, svc.Replace("8080", "9090", StringComparison.Ordinal));
        Assert.Equal("service/web configured\n", await OkAsync("apply", "--validate=false", "-f", path));
        var json = JsonNode.Parse(await OkAsync("get", "service", "web", "-o", "json"))!;
        Assert.Equal("9090", json["spec"]!["ports"]![0]!["targetPort"]!.ToString());
        Assert.Equal("http", json["spec"]!["ports"]![0]!["name"]!.ToString());
        Assert.Equal(ip, json["spec"]!["clusterIP"]!.ToString());

        // describe also lists the object's events through an involvedObject field selector.
        var describe = await OkAsync("describe", "svc", "web");
        Assert.Matches($@"(?m)^IP:\s+{System.Text.RegularExpressions.Regex.Escape(ip)}$", describe);
        Assert.Matches(@"(?m)^Events:\s+<none>$", describe);

        var names = await OkAsync("get", "svc", "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}");
        Assert.Equal("web\n", names);
        Assert.Equal("service \"web\" deleted\n", await OkAsync("delete", "svc", "web"));
        var (code, _, err) = await RunAsync("get", "svc", "web");
        Assert.NotEqual(0, code);
        Assert.Contains("services \"web\" not found", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetWatch_PrintsObjectsCreatedLater()
    {
        var psi = new ProcessStartInfo(KubectlProcess.Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--kubeconfig", _kubeconfig, "--cache-dir", Path.Combine(_dir, "cache"), "get", "configmaps", "-w", "--request-timeout=0" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = _dir;
        using var p = Process.Start(psi)!;
        try
        {
            var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _ = Task.Run(async () =>
            {
                while (await p.StandardOutput.ReadLineAsync() is { } line)
                {
                    if (line.StartsWith("watched", StringComparison.Ordinal))
                    {
                        seen.TrySetResult(line);
                    }
                }
            });
            var cms = _t.Client.Resource(ResourceType.ConfigMaps);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            var i = 0;
            // kubectl may not have opened its watch yet: keep creating until one shows up.
            while (!seen.Task.IsCompleted && DateTime.UtcNow < deadline)
            {
                await cms.CreateAsync("default", TestServer.ConfigMap($"watched-{i++}", "v"));
                await Task.WhenAny(seen.Task, Task.Delay(500));
            }

            // NAME DATA AGE, from the Table rows the watch sends.
            Assert.Matches(@"^watched-\d+\s+1\s+\d+s$", await seen.Task.WaitAsync(TimeSpan.FromSeconds(1)));
        }
        finally
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
    }

    /// <summary>The project's own minimal Gateway API CRDs (the tests never read anything outside the repository).</summary>
    private static string GatewayApiCrds
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Controller.sln")))
            {
                dir = dir.Parent;
            }

            return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("Controller.sln not found"), "config", "gateway", "testing", "gateway-api-crds-minimal.yaml");
        }
    }

    [Fact]
    public async Task GatewayApiCrds_ServerSideApplyThenGatewaysListWithTheirPrinterColumns()
    {
        // Applied the way the Gateway API install guide says: server-side.
        var output = await OkAsync("apply", "--server-side", "--validate=false", "-f", GatewayApiCrds);
        Assert.All(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.EndsWith("serverside-applied", line, StringComparison.Ordinal));

        // Client-side apply over it works too.
        Assert.Contains("customresourcedefinition.apiextensions.k8s.io/httproutes.gateway.networking.k8s.io configured\n",
            await OkAsync("apply", "--validate=false", "-f", GatewayApiCrds), StringComparison.Ordinal);

        var gw = Write("gw.yaml", """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: edge
              namespace: default
            spec:
              gatewayClassName: switchyard
              listeners:
              - name: https
                protocol: HTTPS
                port: 443
                hostname: media.example.com
                tls:
                  certificateRefs:
                  - name: edge-cert
            """);
        Assert.Equal("gateway.gateway.networking.k8s.io/edge created\n", await OkAsync("apply", "--validate=false", "-f", gw));
        var lines = (await OkAsync("get", "gateways", "-A")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^NAMESPACE\s+NAME\s+CLASS\s+ADDRESS\s+PROGRAMMED\s+AGE$", lines[0]);
        // No controller has written status yet: ADDRESS and PROGRAMMED are empty.
        Assert.Matches(@"^default\s+edge\s+switchyard\s+\d+s$", lines[1]);
        Assert.Equal("edge-cert", await OkAsync("get", "gateway", "edge", "-o", "jsonpath={.spec.listeners[0].tls.certificateRefs[0].name}"));
    }
}
