using System.Net;
using System.Text.Json.Nodes;
using Switchyard.Conformance.Backends;
using Switchyard.Conformance.Http;
using Switchyard.Conformance.Kube;
using Switchyard.Conformance.Scenarios;

namespace Switchyard.Conformance.Tests;

/// <summary>The harness pieces on their own: comparisons, echo backend, manifests, report.</summary>
public sealed class HarnessTests
{
    // The 37 GATEWAY-HTTP core tests of Gateway API v1.6.1.
    private static readonly string[] CoreNames =
    [
        "GatewayClassObservedGenerationBump", "GatewayInvalidParametersRef", "GatewayInvalidRouteKind", "GatewayInvalidTLSConfiguration",
        "GatewayListenerUnsupportedProtocol", "GatewayModifyListeners", "GatewayObservedGenerationBump", "GatewaySecretInvalidReferenceGrant",
        "GatewaySecretMissingReferenceGrant", "GatewaySecretReferenceGrantAllInNamespace", "GatewaySecretReferenceGrantSpecific",
        "GatewayWithAttachedRoutes", "HTTPRouteCrossNamespace", "HTTPRouteExactPathMatching", "HTTPRouteHTTPSListener", "HTTPRouteHeaderMatching",
        "HTTPRouteHostnameIntersection", "HTTPRouteInvalidBackendRefUnknownKind", "HTTPRouteInvalidCrossNamespaceBackendRef",
        "HTTPRouteInvalidCrossNamespaceParentRef", "HTTPRouteInvalidNonExistentBackendRef", "HTTPRouteInvalidParentRefNotMatchingSectionName",
        "HTTPRouteInvalidReferenceGrant", "HTTPRouteListenerHostnameMatching", "HTTPRouteMatching", "HTTPRouteMatchingAcrossRoutes",
        "HTTPRouteMultipleGateways", "HTTPRouteNoBackendRefs", "HTTPRouteObservedGenerationBump", "HTTPRoutePartiallyInvalidViaInvalidReferenceGrant",
        "HTTPRoutePathMatchOrder", "HTTPRouteRedirectHostAndStatus", "HTTPRouteReferenceGrant", "HTTPRouteRequestHeaderModifier",
        "HTTPRouteServiceTypes", "HTTPRouteSimpleSameNamespace", "HTTPRouteWeight",
    ];

    private static readonly Dictionary<string, string> Placeholders = new()
    {
        ["GATEWAY_CLASS_NAME"] = "gc",
        ["GATEWAY_CONTROLLER_NAME"] = "example.com/controller",
        ["ECHO_IMAGE"] = "echo:test",
    };

    [Fact]
    public void Suite_HasExactlyTheUpstreamCoreTests()
    {
        var core = ConformanceRunner.Tests.Where(t => t.Core).Select(t => t.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(CoreNames.Order(StringComparer.Ordinal).ToArray(), core);
        Assert.Equal(ConformanceRunner.Tests.Count, ConformanceRunner.Tests.Select(t => t.Name).Distinct().Count());
    }

    [Fact]
    public void ExtendedTests_NeedOnlyFeaturesOfTheProfile()
    {
        Assert.All(ConformanceRunner.Tests.Where(t => !t.Core), t => Assert.All(t.Features, f => Assert.Contains(f, Features.Extended)));
        Assert.All(ConformanceRunner.ClaimedFeatures, f => Assert.Contains(f, Features.Extended));
    }

    [Fact]
    public void ClaimedFeatures_AreWhatTheGatewayClassPublishesAndEachHasTests()
    {
        // The GatewayClass status the translator writes lists exactly core plus the claimed extended features.
        var gc = new Api.GatewayApi.GatewayClass
        {
            Metadata = new Api.Meta.ObjectMeta { Name = "gc", Generation = 1 },
            Spec = new Api.GatewayApi.GatewayClassSpec { ControllerName = Controller.Translation.TranslatorOptions.DefaultControllerName },
        };
        var snapshot = Controller.Providers.ResourceSnapshot.Create([gc]);
        var status = Assert.Single(Controller.Translation.Translator.Translate(snapshot, new Controller.Translation.TranslatorOptions()).Statuses.GatewayClasses).Status;
        var published = status.SupportedFeatures!.Select(f => f.Name).ToArray();
        Assert.Equal(Features.Core.Concat(ConformanceRunner.ClaimedFeatures).Order(StringComparer.Ordinal), published);
        Assert.All(ConformanceRunner.ClaimedFeatures, f => Assert.Contains(ConformanceRunner.Tests, t => t.Features.Contains(f)));
    }

    [Fact]
    public void EveryManifest_ParsesWithPlaceholdersFilled()
    {
        var names = AllTests.Get().Concat(AllTests.Switchyard()).SelectMany(t => t.Manifests)
            .Append("base.yaml").Append("tests/webtransportroute-reference-grant.yaml").Distinct().ToList();
        foreach (var name in names)
        {
            var objects = SuiteManifests.Load(name, Placeholders);
            Assert.NotEmpty(objects);
            foreach (var obj in objects)
            {
                Assert.DoesNotContain("{GATEWAY_", obj.ToJsonString(), StringComparison.Ordinal);
                Assert.NotNull(KubeObjects.TypeOf(obj));
                Assert.False(string.IsNullOrEmpty(Names.Read(obj).Name));
            }
        }
    }

    [Fact]
    public void Crds_ServeV1OfEveryGatewayApiKindTheSuiteUses()
    {
        var kinds = SuiteManifests.Crds().ToDictionary(c => c["spec"]!["names"]!["kind"]!.GetValue<string>(), c => c);
        foreach (var kind in new[] { "GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant", "ListenerSet" })
        {
            var versions = kinds[kind]["spec"]!["versions"]!.AsArray();
            Assert.Contains(versions, v => v!["name"]!.GetValue<string>() == "v1" && v["served"]!.GetValue<bool>());
        }

        // A field called "description" must survive the trimming of schema descriptions.
        var gc = kinds["GatewayClass"]["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!["properties"]!.AsObject();
        Assert.True(gc.ContainsKey("description"));
    }

    [Fact]
    public void Compare_MatchingEchoAnswer_IsNull()
    {
        var expected = Dsl.Ok("/foo?x=1", "infra-backend-v1", "example.com") with
        {
            ExpectedRequest = new ExpectedRequest { Headers = new Dictionary<string, string> { ["X-A"] = "1,2" }, AbsentHeaders = ["X-Gone"] },
        };
        var echo = new EchoedRequest("/foo?x=1", "example.com", "GET", new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase) { ["X-A"] = ["1", "2"] }, "gateway-conformance-infra", "infra-backend-v1-abc-xyz");
        Assert.Null(GatewayHttp.Compare(expected, new CapturedResponse(200, new Dictionary<string, string>(), echo, ""), "127.0.0.1:1"));
    }

    [Theory]
    // The status differs.
    [InlineData(404, "/foo", "infra-backend-v1-a", "1", "status 404")]
    // Another backend answered (pod name prefix).
    [InlineData(200, "/foo", "infra-backend-v2-a", "1", "pod infra-backend-v2-a")]
    // The backend saw another path.
    [InlineData(200, "/bar", "infra-backend-v1-a", "1", "path '/bar'")]
    // A header value differs.
    [InlineData(200, "/foo", "infra-backend-v1-a", "2", "X-A: '2'")]
    public void Compare_Mismatch_SaysWhat(int status, string path, string pod, string header, string fragment)
    {
        var expected = Dsl.Ok("/foo", "infra-backend-v1") with { ExpectedRequest = new ExpectedRequest { Headers = new Dictionary<string, string> { ["X-A"] = "1" } } };
        var echo = new EchoedRequest(path, "h", "GET", new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase) { ["X-A"] = [header] }, "gateway-conformance-infra", pod);
        var why = GatewayHttp.Compare(expected, new CapturedResponse(status, new Dictionary<string, string>(), status == 200 ? echo : null, ""), "127.0.0.1:1");
        Assert.NotNull(why);
        Assert.Contains(fragment, why, StringComparison.Ordinal);
    }

    [Theory]
    // A default port is the absence of a port.
    [InlineData("http://example.org/p", null, null)]
    [InlineData("https://example.org:443/p", "https", null)]
    [InlineData("http://example.org:8080/p", null, 8080)]
    public void Compare_Redirect_PortsAndSchemes(string location, string? scheme, int? port)
    {
        var expected = HttpRouteTests.Redirect("/p", 302, new ExpectedRedirect { Host = "example.org", Scheme = scheme, Port = port });
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Location"] = location };
        Assert.Null(GatewayHttp.Compare(expected, new CapturedResponse(302, headers, null, ""), "127.0.0.1:5"));
        var wrongPort = expected with { RedirectRequest = expected.RedirectRequest! with { Port = 9999 } };
        Assert.NotNull(GatewayHttp.Compare(wrongPort, new CapturedResponse(302, headers, null, ""), "127.0.0.1:5"));
    }

    [Fact]
    public void Compare_GatewayAnsweredPreflight_NeedsAnEmptyExpectedPathAndOneOfTheValidValues()
    {
        // Upstream's CORS preflight expectation: the gateway answers (no echo), so only method, empty path and namespace.
        var preflight = new ExpectedResponse
        {
            Request = new Request { Path = "/cors-1", Method = "OPTIONS" },
            ExpectedRequest = new ExpectedRequest { Host = "", Method = "OPTIONS", Path = "" },
            Namespace = "",
            ResponseHeaderValues = new Dictionary<string, string[]> { ["access-control-allow-methods"] = ["GET, OPTIONS", "OPTIONS, GET"] },
            IgnoreWhitespace = true,
        };
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Access-Control-Allow-Methods"] = "OPTIONS,GET" };
        Assert.Null(GatewayHttp.Compare(preflight, new CapturedResponse(200, headers, null, ""), "127.0.0.1:1"));

        var other = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Access-Control-Allow-Methods"] = "GET" };
        Assert.Contains("one of", GatewayHttp.Compare(preflight, new CapturedResponse(200, other, null, ""), "127.0.0.1:1"), StringComparison.Ordinal);
        Assert.Contains("is absent", GatewayHttp.Compare(preflight, new CapturedResponse(200, new Dictionary<string, string>(), null, ""), "127.0.0.1:1"), StringComparison.Ordinal);
        var strict = preflight with { IgnoreWhitespace = false };
        Assert.NotNull(GatewayHttp.Compare(strict, new CapturedResponse(200, headers, null, ""), "127.0.0.1:1"));

        // A request expected at the backend still needs the echo.
        var why = GatewayHttp.Compare(Dsl.Ok("/cors-1", "infra-backend-v1"), new CapturedResponse(200, headers, null, "plain"), "127.0.0.1:1");
        Assert.Contains("not from the echo backend", why, StringComparison.Ordinal);
    }

    [Fact]
    public void Conditions_OldObservedGeneration_DoesNotCount()
    {
        var conditions = new JsonArray(new JsonObject { ["type"] = "Accepted", ["status"] = "True", ["reason"] = "Accepted", ["observedGeneration"] = 1 });
        Assert.True(Conditions.Has(conditions, ExpectedCondition.True("Accepted"), 1, out _));
        Assert.False(Conditions.Has(conditions, ExpectedCondition.True("Accepted"), 2, out var why));
        Assert.Contains("observedGeneration", why, StringComparison.Ordinal);
        Assert.False(Conditions.Has(conditions, ExpectedCondition.False("Accepted"), null, out _));
    }

    [Theory]
    [InlineData("x-header-set", "X-Header-Set")]
    [InlineData("CONTENT-TYPE", "Content-Type")]
    [InlineData("a", "A")]
    public void Canonical_IsGoHeaderCanonicalization(string name, string expected) => Assert.Equal(expected, EchoServer.Canonical(name));

    [Theory]
    [InlineData("1s", 1000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5s", 1500)]
    public void GoDuration_Parses(string text, int ms)
    {
        Assert.True(EchoServer.TryParseGoDuration(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(ms), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1h")]
    [InlineData("-1s")]
    [InlineData("99999m")]
    public void GoDuration_RejectsOthers(string text) => Assert.False(EchoServer.TryParseGoDuration(text, out _));

    [Fact]
    public async Task EchoServer_AnswersAsItsPod()
    {
        var address = new IPAddress([127, 77, (byte)Random.Shared.Next(256), 9]);
        await using var echo = await EchoServer.StartAsync([new EchoPod("infra-backend-v1-abc-12345", "gateway-conformance-infra", address)], CancellationToken.None);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{address}:{EchoServer.Ports[0]}/some/path?delay=10ms");
        request.Headers.Host = "example.com";
        request.Headers.TryAddWithoutValidation("x-custom", "v");
        request.Headers.TryAddWithoutValidation("X-Echo-Set-Header", "X-Out:1,X-Other:two");
        using var response = await http.SendAsync(request);
        var parsed = EchoedRequest.TryParse(await response.Content.ReadAsStringAsync());
        Assert.NotNull(parsed);
        Assert.Equal("/some/path?delay=10ms", parsed.Path);
        Assert.Equal("POST", parsed.Method);
        Assert.Equal("example.com", parsed.Host);
        Assert.Equal("infra-backend-v1-abc-12345", parsed.Pod);
        Assert.Equal("gateway-conformance-infra", parsed.Namespace);
        Assert.Equal(["v"], parsed.Headers["X-Custom"]);
        Assert.Equal("1", response.Headers.GetValues("X-Out").Single());
        Assert.Equal("two", response.Headers.GetValues("X-Other").Single());
        Assert.Single(echo.RequestsTo("infra-backend-v1", "gateway-conformance-infra", DateTimeOffset.MinValue));
    }

    [Fact]
    public async Task EchoServer_RetrySimulation_FailsTheFirstRequestsOfEachId()
    {
        var address = new IPAddress([127, 79, (byte)Random.Shared.Next(256), 9]);
        await using var echo = await EchoServer.StartAsync([new EchoPod("infra-backend-v3-abc-12345", "gateway-conformance-infra", address)], CancellationToken.None);
        using var http = new HttpClient();
        async Task<int> StatusAsync(string query)
        {
            using var response = await http.GetAsync($"http://{address}:{EchoServer.Ports[0]}/retry?{query}");
            return (int)response.StatusCode;
        }

        // Two failures with 502, then echoes; another ID counts from zero.
        Assert.Equal(502, await StatusAsync("responseCode=502&succeedAfter=2&uuid=a"));
        Assert.Equal(502, await StatusAsync("responseCode=502&succeedAfter=2&uuid=a"));
        Assert.Equal(200, await StatusAsync("responseCode=502&succeedAfter=2&uuid=a"));
        Assert.Equal(503, await StatusAsync("responseCode=503&succeedAfter=1&uuid=b"));
        Assert.Equal(200, await StatusAsync("responseCode=503&succeedAfter=1&uuid=b"));

        // Not a simulation: no ID, or a code that is not an error.
        Assert.Equal(200, await StatusAsync("responseCode=500&succeedAfter=2"));
        Assert.Equal(200, await StatusAsync("responseCode=302&succeedAfter=2&uuid=c"));
    }

    [Fact]
    public async Task EchoServer_H2cPortSpeaksOnlyHttp2_AndWebSocketEchoes()
    {
        var address = new IPAddress([127, 78, (byte)Random.Shared.Next(256), 9]);
        await using var echo = await EchoServer.StartAsync([new EchoPod("infra-backend-v1-abc-12345", "gateway-conformance-infra", address)], CancellationToken.None);
        using var http = new HttpClient();
        using (var h2 = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"http://{address}:{EchoServer.H2cPort}/") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact }))
        {
            Assert.Equal("infra-backend-v1-abc-12345", EchoedRequest.TryParse(await h2.Content.ReadAsStringAsync())?.Pod);
        }

        using (var h1 = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"http://{address}:{EchoServer.H2cPort}/")))
        {
            Assert.NotEqual(HttpStatusCode.OK, h1.StatusCode);
        }

        using var ws = new System.Net.WebSockets.ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://{address}:{EchoServer.Ports[0]}/ws"), CancellationToken.None);
        await ws.SendAsync("hi"u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[16];
        var received = await ws.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
        Assert.Equal("hi", System.Text.Encoding.UTF8.GetString(buffer, 0, received.Count));
        await ws.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    [Fact]
    public void Report_CountsCoreAndSupportedExtendedOnly()
    {
        var report = new ConformanceReport
        {
            Implementation = new ReportImplementation { Version = "1.2.3" },
            Mode = "in-process",
            Date = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
            SupportedFeatures = ["HTTPRouteMethodMatching"],
            Results =
            [
                new("A", true, [], TestOutcome.Passed, TimeSpan.Zero, ""),
                new("B", true, [], TestOutcome.Failed, TimeSpan.Zero, "boom"),
                new("C", false, ["HTTPRouteMethodMatching"], TestOutcome.Passed, TimeSpan.Zero, ""),
                new("D", false, ["HTTPRouteCORS"], TestOutcome.Skipped, TimeSpan.Zero, "unsupported"),
            ],
        };
        Assert.Equal(new ReportStatistics(1, 1, 0), report.Core);
        Assert.Equal(new ReportStatistics(1, 0, 0), report.Extended);
        var yaml = report.ToYaml();
        Assert.Contains("kind: ConformanceReport", yaml, StringComparison.Ordinal);
        Assert.Contains("gatewayAPIVersion: v1.6.1", yaml, StringComparison.Ordinal);
        Assert.Contains("  name: GATEWAY-HTTP", yaml, StringComparison.Ordinal);
        Assert.Contains("    result: failure", yaml, StringComparison.Ordinal);
        Assert.Contains("    - HTTPRouteCORS", yaml, StringComparison.Ordinal);
        Assert.Contains("summary: Core tests failed with 1 test failures. Extended tests succeeded.", yaml, StringComparison.Ordinal);

        // The document (comments aside) is YAML the project's own parser reads back.
        var node = Switchyard.Kubernetes.Config.YamlJson.ParseOne(yaml);
        Assert.Equal(1L, node["profiles"]![0]!["core"]!["statistics"]!["Passed"]!.GetValue<long>());
        Assert.Equal("HTTPRouteMethodMatching", node["profiles"]![0]!["extended"]!["supportedFeatures"]![0]!.GetValue<string>());
    }

    [Fact]
    public void WebTransportRouteTests_AreTheirOwnProfile_NeverGatewayHttp()
    {
        var tests = AllTests.Switchyard();
        Assert.True(tests.Count >= 8);
        Assert.All(tests, t => Assert.Equal(SwitchyardFeatures.WebTransportProfile, t.Profile));
        Assert.All(tests, t => Assert.False(t.IsCore));
        Assert.All(tests, t => Assert.Equal([SwitchyardFeatures.WebTransportRoute], t.Features));
        Assert.All(tests, t => Assert.StartsWith("WebTransportRoute", t.ShortName, StringComparison.Ordinal));
        Assert.DoesNotContain(ConformanceRunner.Tests, t => t.Name.StartsWith("WebTransportRoute", StringComparison.Ordinal));
        Assert.DoesNotContain(SwitchyardFeatures.WebTransportRoute, Features.Extended);
        Assert.Equal(tests.Count, tests.Select(t => t.ShortName).Distinct().Count());
    }

    [Fact]
    public void Report_WebTransportProfile_IsCountedApart()
    {
        var report = new ConformanceReport
        {
            Implementation = new ReportImplementation(),
            Mode = "in-process",
            Date = DateTimeOffset.UnixEpoch,
            SupportedFeatures = [],
            SwitchyardSupportedFeatures = [SwitchyardFeatures.WebTransportRoute],
            Results =
            [
                new("A", true, [], TestOutcome.Passed, TimeSpan.Zero, ""),
                new("W1", false, [SwitchyardFeatures.WebTransportRoute], TestOutcome.Passed, TimeSpan.Zero, "", SwitchyardFeatures.WebTransportProfile),
                new("W2", false, [SwitchyardFeatures.WebTransportRoute], TestOutcome.Failed, TimeSpan.Zero, "x", SwitchyardFeatures.WebTransportProfile),
            ],
        };
        Assert.Equal(new ReportStatistics(1, 0, 0), report.Core);
        Assert.Equal(new ReportStatistics(0, 0, 0), report.Extended);
        Assert.Equal(new ReportStatistics(1, 1, 0), report.WebTransport);
        var node = Switchyard.Kubernetes.Config.YamlJson.ParseOne(report.ToYaml());
        Assert.Equal("GATEWAY-HTTP", node["profiles"]![0]!["name"]!.GetValue<string>());
        Assert.Equal("success", node["profiles"]![0]!["core"]!["result"]!.GetValue<string>());
        var wt = node["profiles"]![1]!;
        Assert.Equal(SwitchyardFeatures.WebTransportProfile, wt["name"]!.GetValue<string>());
        Assert.Equal("failure", wt["core"]!["result"]!.GetValue<string>());
        Assert.Equal(1L, wt["core"]!["statistics"]!["Failed"]!.GetValue<long>());
        Assert.Equal(SwitchyardFeatures.WebTransportRoute, wt["core"]!["supportedFeatures"]![0]!.GetValue<string>());
    }
}
