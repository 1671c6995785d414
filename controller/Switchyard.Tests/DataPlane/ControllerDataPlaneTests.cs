using System.Net;
using System.Text.Json.Nodes;
using Switchyard.Controller.Tests.Integration;
using Switchyard.Processors;
using Switchyard.Tests.EndToEnd;

namespace Switchyard.Tests.DataPlane;

/// <summary>
/// <c>switchyard controller</c> against <c>switchyard dev-apiserver</c> (both processes, objects applied with the real
/// kubectl) serves what it programs: a WebTransport track reaches its backend and an HTTPRoute is forwarded, on the
/// Gateway's listener port; deleting the HTTPRoute stops serving it.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ControllerDataPlaneTests
{
    private static readonly byte[] ChatMessage = "{\"message_id\":\"m\",\"timestamp\":1,\"user\":\"u\",\"message\":\"hi\",\"type\":\"chat\"}"u8.ToArray();

    [Fact]
    public async Task ProgrammedQuickstart_ServesTracksAndHttpRoute_DeletingTheRouteStopsIt()
    {
        await using var chat = await ProcessorHost.StartAsync(ProcessorKind.Chat, new IPEndPoint(IPAddress.Loopback, 0));
        await using var echo = await EchoBackend.StartAsync();
        using var api = await DevApiServerProcess.StartAsync(quickstart: false);
        var manifests = Directory.CreateTempSubdirectory("switchyard-controller-dp-").FullName;
        try
        {
            // The quickstart objects, with the chat backend's EndpointSlice pointed at this test's processor, plus an
            // HTTPRoute on the same HTTPS listener to the echo backend.
            foreach (var file in Directory.GetFiles(Repo.Path("examples", "quickstart"), "*.yaml"))
            {
                var text = (await File.ReadAllTextAsync(file)).Replace("port: 5003", $"port: {chat.Port}", StringComparison.Ordinal);
                await File.WriteAllTextAsync(Path.Combine(manifests, Path.GetFileName(file)), text);
            }

            await File.WriteAllTextAsync(Path.Combine(manifests, "echo.yaml"), echo.Manifests("echo") + """

                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata:
                  name: api
                  namespace: default
                spec:
                  parentRefs:
                  - name: quickstart
                    sectionName: wt
                  rules:
                  - matches:
                    - path:
                        type: PathPrefix
                        value: /api
                    backendRefs:
                    - name: echo
                      port: 80
                """);
            api.Kubectl("apply", "--validate=false", "-f", manifests);

            using var controller = api.StartController("controller", "--leader-elect", "false", "--data-plane-bind", "4433=127.0.0.1:0");
            string Describe() => Eventually.Join(controller, api.Server);
            await Eventually.TrueAsync(() => api.Condition("gateway", "quickstart", "Programmed") == "True", TimeSpan.FromSeconds(60), Describe);
            await controller.WaitForStderrAsync(ServingLine.For("default/quickstart", 4433), TimeSpan.FromSeconds(30));
            var (tcp, udp) = ServingLine.Parse(controller.StderrLines().First(ServingLine.For("default/quickstart", 4433)));
            Assert.True(udp is not null, Describe());

            // The HTTPRoute, over TLS on the listener's TCP port (the certificate is the controller's generated one).
            using var http = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } })
            {
                DefaultRequestVersion = HttpVersion.Version20,
            };
            var url = new Uri($"https://127.0.0.1:{tcp.Port}/api/hello");
            await UntilAsync(async () => await StatusAsync(http, url) == HttpStatusCode.OK, Describe);
            var echoed = JsonNode.Parse(await http.GetStringAsync(url))!;
            Assert.Equal(echo.Name, (string?)echoed["backend"]);
            Assert.Equal("/api/hello", (string?)echoed["path"]);

            // A WebTransport track, on the same port's UDP, reaches the chat backend.
            await using (var client = await TrackClient.ConnectAsync(udp!, certificateSha256: null))
            {
                var stream = await client.OpenAsync();
                await stream.SendAsync("controller_chat", "chat", ChatMessage);
                stream.Finish();
                await UntilAsync(async () => (await QuickstartHarness.StatsAsync(chat)).ContainsKey("controller_chat"), Describe);
            }

            // Deleting the HTTPRoute stops serving it; the listener stays.
            api.Kubectl("delete", "httproute", "api");
            await UntilAsync(async () => await StatusAsync(http, url) == HttpStatusCode.NotFound, Describe);
            var served = echo.Requests;
            Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(http, url));
            Assert.Equal(served, echo.Requests);
        }
        finally
        {
            Directory.Delete(manifests, recursive: true);
        }
    }

    private static async Task<HttpStatusCode?> StatusAsync(HttpClient http, Uri url)
    {
        try
        {
            using var response = await http.GetAsync(url);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, Func<string> describe, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time\n" + describe());
            await Task.Delay(100);
        }
    }
}
