using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.Config;

namespace Switchyard.Kubernetes.Tests.Config;

public sealed class KubeconfigTests
{
    private const string Yaml = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: prod
          cluster:
            server: https://10.0.0.1:6443
            insecure-skip-tls-verify: true
        - name: dev
          cluster:
            server: http://127.0.0.1:8080
        users:
        - name: alice
          user:
            token: abc.def
        contexts:
        - name: prod-ctx
          context: {cluster: prod, user: alice, namespace: gateways}
        - name: dev-ctx
          context:
            cluster: dev
            user: alice
        current-context: prod-ctx
        """;

    [Fact]
    public void Yaml_CurrentContextSelectsClusterUserAndNamespace()
    {
        var c = KubernetesClientConfiguration.FromKubeconfigText(Yaml);
        Assert.Equal(new Uri("https://10.0.0.1:6443"), c.Server);
        Assert.True(c.SkipTlsVerify);
        Assert.Equal("abc.def", c.Token);
        Assert.Equal("gateways", c.Namespace);
    }

    [Fact]
    public void ExplicitContext_OverridesCurrentContext()
    {
        var c = KubernetesClientConfiguration.FromKubeconfigText(Yaml, "dev-ctx");
        Assert.Equal(new Uri("http://127.0.0.1:8080"), c.Server);
        Assert.False(c.SkipTlsVerify);
        Assert.Equal("default", c.Namespace);
    }

    [Fact]
    public void Json_IsAcceptedToo()
    {
        var json = """
            {"clusters":[{"name":"c","cluster":{"server":"https://k:443"}}],"users":[{"name":"u","user":{}}],
             "contexts":[{"name":"x","context":{"cluster":"c","user":"u"}}],"current-context":"x"}
            """;
        Assert.Equal(new Uri("https://k:443"), KubernetesClientConfiguration.FromKubeconfigText(json).Server);
    }

    [Theory]
    // Missing context referenced by current-context.
    [InlineData("current-context: nope\ncontexts: []\nclusters: []\n")]
    // Server is not an http(s) URL.
    [InlineData("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'ftp://x'}}]\n")]
    // Not YAML at all.
    [InlineData("clusters: [unclosed\n")]
    // Duplicate keys (YAML 1.2 §3.2.1.1).
    [InlineData("current-context: a\ncurrent-context: b\n")]
    // Bad base64 in certificate-authority-data.
    [InlineData("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://x', certificate-authority-data: '!!!'}}]\n")]
    // Root is a list.
    [InlineData("- a\n- b\n")]
    public void Malformed_ThrowsKubeconfigException(string text)
    {
        Assert.Throws<KubeconfigException>(() => KubernetesClientConfiguration.FromKubeconfigText(text));
    }

    [Fact]
    public void RandomBytes_NeverEscapeAsAnythingButKubeconfigException()
    {
        var rng = new Random(1234);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        var alphabet = "abc:-[]{}\n '\"&*!|>#\t0123456789contexts";
        while (DateTime.UtcNow < deadline)
        {
            var chars = new char[rng.Next(0, 200)];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = alphabet[rng.Next(alphabet.Length)];
            }

            try
            {
                KubernetesClientConfiguration.FromKubeconfigText(new string(chars));
            }
            catch (KubeconfigException)
            {
                // Expected for nearly every input.
            }
        }
    }

    [Fact]
    public async Task InCluster_ReadsEnvironmentAndRereadsRotatedToken()
    {
        var dir = Directory.CreateTempSubdirectory("sa-").FullName;
        File.WriteAllText(Path.Combine(dir, "token"), "first");
        File.WriteAllText(Path.Combine(dir, "namespace"), "switchyard-system\n");
        Environment.SetEnvironmentVariable("KUBERNETES_SERVICE_HOST", "fd00::1");
        Environment.SetEnvironmentVariable("KUBERNETES_SERVICE_PORT", "443");
        try
        {
            var c = KubernetesClientConfiguration.InCluster(dir);
            Assert.Equal("https", c.Server.Scheme);
            Assert.Equal("[fd00::1]", c.Server.Host);
            Assert.Equal(443, c.Server.Port);
            Assert.Equal("switchyard-system", c.Namespace);
            using var handler = new BearerTokenHandler(c.Token, c.TokenFile, new HttpClientHandler());
            Assert.Equal("first", handler.CurrentToken());
            await Task.Delay(20);
            File.WriteAllText(Path.Combine(dir, "token"), "second");
            File.SetLastWriteTimeUtc(Path.Combine(dir, "token"), DateTime.UtcNow.AddSeconds(5));
            Assert.Equal("second", handler.CurrentToken());
        }
        finally
        {
            Environment.SetEnvironmentVariable("KUBERNETES_SERVICE_HOST", null);
            Environment.SetEnvironmentVariable("KUBERNETES_SERVICE_PORT", null);
        }
    }

    [Fact]
    public void InCluster_OutsideAPod_Throws()
    {
        Assert.Throws<KubeconfigException>(() => KubernetesClientConfiguration.InCluster(Path.GetTempPath()));
    }
}
