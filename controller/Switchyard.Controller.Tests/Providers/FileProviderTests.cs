using Switchyard.Api.GatewayApi;
using Switchyard.Controller.Providers;

namespace Switchyard.Controller.Tests.Providers;

public sealed class FileProviderTests : IDisposable
{
    private const string Gateway = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: gw
        spec:
          gatewayClassName: switchyard
          listeners:
          - name: http
            port: 80
            protocol: HTTP
        """;

    private const string Service = """
        apiVersion: v1
        kind: Service
        metadata:
          name: echo
          namespace: apps
        spec:
          ports:
          - name: http
            port: 8080
            targetPort: http
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: echo-1
          namespace: apps
          labels:
            kubernetes.io/service-name: echo
        addressType: IPv4
        endpoints:
        - addresses: ["127.0.0.1"]
        ports:
        - name: http
          port: 5001
        """;

    private readonly string dir = Directory.CreateTempSubdirectory("switchyard-fp-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void GoodDirectory_LoadsEveryDocumentAndDefaultsNamespace()
    {
        File.WriteAllText(Path.Combine(dir, "gw.yaml"), Gateway);
        File.WriteAllText(Path.Combine(dir, "svc.yml"), Service);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "not: [a manifest");

        var result = FileProvider.LoadDirectory(dir);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var gw = Assert.Single(result.Snapshot!.Gateways);
        Assert.Equal("default", gw.Metadata.Namespace);
        Assert.Equal(80, gw.Spec.Listeners[0].Port);
        Assert.Equal("http", result.Snapshot.GetService("apps", "echo")!.Spec.Ports![0].TargetPort!.Value.StringValue);
        Assert.Equal(5001, Assert.Single(result.Snapshot.EndpointSlicesFor("apps", "echo")).Ports![0].Port);
    }

    [Fact]
    public void UnknownField_ErrorNamesFileObjectFieldAndLine()
    {
        File.WriteAllText(Path.Combine(dir, "gw.yaml"), Gateway.Replace("    protocol: HTTP", "    protocol: HTTP\n    protocl: HTTPS", StringComparison.Ordinal));

        var result = FileProvider.LoadDirectory(dir);

        var error = Assert.Single(result.Errors);
        Assert.Null(result.Snapshot);
        Assert.EndsWith("gw.yaml", error.File, StringComparison.Ordinal);
        Assert.Equal("Gateway gw", error.Object);
        Assert.Equal("spec.listeners[0].protocl", error.Field);
        Assert.Equal(11, error.Line);
        Assert.Contains("unknown field", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void WrongType_ErrorNamesField()
    {
        File.WriteAllText(Path.Combine(dir, "gw.yaml"), Gateway.Replace("port: 80", "port: eighty", StringComparison.Ordinal));

        var error = Assert.Single(FileProvider.LoadDirectory(dir).Errors);

        Assert.Equal("spec.listeners[0].port", error.Field);
        Assert.Contains("integer", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    // Not YAML at all.
    [InlineData("kind: [unclosed", "invalid YAML")]
    // A kind Switchyard does not read.
    [InlineData("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n", "unsupported kind")]
    // An object without a name.
    [InlineData("apiVersion: v1\nkind: Service\nmetadata:\n  namespace: x\nspec: {}\n", "is required")]
    // Duplicate keys are ambiguous, as kubectl says.
    [InlineData("apiVersion: v1\nkind: Service\nkind: Secret\nmetadata:\n  name: x\n", "duplicate key")]
    // A cluster-scoped kind with a namespace.
    [InlineData("apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  name: x\n  namespace: y\nspec:\n  controllerName: a/b\n", "cluster-scoped")]
    public void BadManifest_IsReported(string yaml, string expected)
    {
        File.WriteAllText(Path.Combine(dir, "bad.yaml"), yaml);

        var result = FileProvider.LoadDirectory(dir);

        Assert.False(result.Succeeded);
        Assert.Contains(expected, Assert.Single(result.Errors).ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void SameObjectTwice_IsAnError()
    {
        File.WriteAllText(Path.Combine(dir, "a.yaml"), Gateway);
        File.WriteAllText(Path.Combine(dir, "b.yaml"), Gateway);

        var error = Assert.Single(FileProvider.LoadDirectory(dir).Errors);

        Assert.Contains("also defined in", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadEdit_KeepsLastGoodSnapshot()
    {
        File.WriteAllText(Path.Combine(dir, "gw.yaml"), Gateway);
        using var provider = new FileProvider(dir);
        Assert.True(provider.Reload().Succeeded);
        var good = provider.Current;

        File.WriteAllText(Path.Combine(dir, "gw.yaml"), Gateway + "\n  bogus: 1\n");
        IReadOnlyList<ManifestError>? reported = null;
        provider.LoadFailed += e => reported = e;
        var result = provider.Reload();

        Assert.False(result.Succeeded);
        Assert.NotNull(reported);
        Assert.Same(good, provider.Current);
    }

    [Fact]
    public async Task FileChange_PublishesNewSnapshot()
    {
        File.WriteAllText(Path.Combine(dir, "gw.yaml"), Gateway);
        using var provider = new FileProvider(dir, TimeSpan.FromMilliseconds(50));
        var published = new TaskCompletionSource<ResourceSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(provider.Start().Succeeded);
        provider.SnapshotPublished += s =>
        {
            if (s.Gateways.Length == 1 && s.Gateways[0].Spec.Listeners[0].Port == 8080)
            {
                published.TrySetResult(s);
            }
        };

        File.WriteAllText(Path.Combine(dir, "gw.yaml"), Gateway.Replace("port: 80", "port: 8080", StringComparison.Ordinal));

        var snapshot = await published.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Same(snapshot, provider.Current);
        Assert.Equal(8080, provider.Current!.Gateways[0].Spec.Listeners[0].Port);
    }

    [Fact]
    public void AliasBomb_IsRejectedWithoutExpandingForever()
    {
        var yaml = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n  annotations:\n    a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n";
        var prev = "a";
        for (var i = 0; i < 8; i++)
        {
            var next = $"b{i}";
            yaml += $"    {next}: &{next} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n";
            prev = next;
        }

        File.WriteAllText(Path.Combine(dir, "bomb.yaml"), yaml);

        var result = FileProvider.LoadDirectory(dir);

        Assert.False(result.Succeeded);
        Assert.Contains("more than", result.Errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GatewayApiTypes_RoundTripThroughStrictJson()
    {
        File.WriteAllText(Path.Combine(dir, "gw.yaml"), Gateway);
        var gw = FileProvider.LoadDirectory(dir).Snapshot!.Gateways[0];
        var json = System.Text.Json.JsonSerializer.Serialize(gw, Api.Serialization.ApiJsonContext.Default.Gateway);
        var back = System.Text.Json.JsonSerializer.Deserialize(json, Api.Serialization.ApiJsonContext.Strict.Gateway)!;
        Assert.Equal("switchyard", back.Spec.GatewayClassName);
        Assert.DoesNotContain("null", json, StringComparison.Ordinal);
        Assert.Equal(GatewayApiNames.V1, back.ApiVersion);
    }
}
