using System.Net;
using System.Text;

namespace Switchyard.Kubernetes.Tests.Client;

/// <summary>Hostile input to the double: every answer must be a Status with a 4xx code, never a 5xx or a hang.</summary>
public sealed class DoubleFuzzTests : IAsyncLifetime
{
    private readonly TestServer _t = new();

    public Task InitializeAsync() => _t.InitializeAsync();

    public Task DisposeAsync() => _t.DisposeAsync();

    private static readonly string[] Fragments =
    [
        "{", "}", "[", "]", ",", ":", "\"metadata\"", "\"name\"", "\"x\"", "\"spec\"", "\"size\"", "1", "-1", "null", "true",
        "\"kind\"", "\"Widget\"", "\"apiVersion\"", "\"op\"", "\"add\"", "\"path\"", "\"/spec\"", "\"value\"", "\"$patch\"", "\"delete\"",
        "\"finalizers\"", "\"status\"", "\"labels\"", "1e400", "\"\\u0000\"", " ",
    ];

    [Fact]
    public async Task RandomBodiesAndSelectors_AlwaysAnswerBelow500()
    {
        var widgets = await _t.InstallWidgetsAsync();
        await widgets.CreateAsync("default", TestServer.Widget("target", 1));
        using var http = new HttpClient { BaseAddress = _t.Server.BaseAddress };
        var rng = new Random(7);
        var contentTypes = new[] { "application/json", "application/merge-patch+json", "application/json-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml", "text/plain" };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(4);
        var requests = 0;
        while (DateTime.UtcNow < deadline)
        {
            var body = new StringBuilder();
            for (var i = rng.Next(1, 30); i > 0; i--)
            {
                body.Append(Fragments[rng.Next(Fragments.Length)]);
            }

            var text = rng.Next(4) == 0 ? """{"apiVersion":"test.switchyard.dev/v1","kind":"Widget","metadata":{"name":"f"},"spec":""" + body + "}" : body.ToString();
            using var content = new StringContent(text, Encoding.UTF8);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentTypes[rng.Next(contentTypes.Length)]);
            var (method, path) = rng.Next(5) switch
            {
                0 => (HttpMethod.Post, "/apis/test.switchyard.dev/v1/namespaces/default/widgets"),
                1 => (HttpMethod.Put, "/apis/test.switchyard.dev/v1/namespaces/default/widgets/target"),
                2 => (HttpMethod.Patch, "/apis/test.switchyard.dev/v1/namespaces/default/widgets/target"),
                3 => (HttpMethod.Patch, "/apis/test.switchyard.dev/v1/namespaces/default/widgets/target/status?fieldManager=f"),
                _ => (HttpMethod.Get, "/apis/test.switchyard.dev/v1/widgets?labelSelector=" + Uri.EscapeDataString(body.ToString()) + "&limit=" + rng.Next(-2, 3)),
            };
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Get ? null : content };
            using var response = await http.SendAsync(request);
            requests++;
            Assert.True((int)response.StatusCode < 500, $"{method} {path} with {text} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            if (!response.IsSuccessStatusCode)
            {
                Assert.Contains("\"kind\":\"Status\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        Assert.True(requests > 50);
        // The store still serves the object it had, whatever it now holds.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/apis/test.switchyard.dev/v1/namespaces/default/widgets/target")).StatusCode);
    }
}
