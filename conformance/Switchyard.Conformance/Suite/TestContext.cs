using System.Text.Json.Nodes;
using Switchyard.Conformance.Environments;
using Switchyard.Conformance.Http;
using Switchyard.Conformance.Kube;

namespace Switchyard.Conformance;

/// <summary>What a test body works with: the API, status waiters, the HTTP client and the objects it created.</summary>
internal sealed class TestContext
{
    private readonly List<JsonObject> created = [];
    private readonly IReadOnlyDictionary<string, string> placeholders;
    private readonly Action<string> log;

    public TestContext(IConformanceEnvironment env, GatewayHttp http, string gatewayClassName, string controllerName, IReadOnlyDictionary<string, string> placeholders, ConformanceOptions options, Action<string> log, CancellationToken cancellationToken)
    {
        Env = env;
        Http = http;
        GatewayClassName = gatewayClassName;
        ControllerName = controllerName;
        this.placeholders = placeholders;
        this.log = log;
        Options = options;
        Ct = cancellationToken;
        Waiters = new Waiters(env.Kube, controllerName, options.Timeout);
    }

    public const string Infra = "gateway-conformance-infra";
    public const string AppBackend = "gateway-conformance-app-backend";
    public const string WebBackend = "gateway-conformance-web-backend";

    public IConformanceEnvironment Env { get; }

    public KubeObjects Kube => Env.Kube;

    public Waiters Waiters { get; }

    public GatewayHttp Http { get; }

    public string GatewayClassName { get; }

    public string ControllerName { get; }

    public ConformanceOptions Options { get; }

    public CancellationToken Ct { get; }

    public void Log(string line) => log(line);

    /// <summary>Applies an embedded manifest; its objects are deleted when the test ends (upstream's MustApplyWithCleanup).</summary>
    public async Task ApplyAsync(string manifest, bool cleanup = true)
    {
        foreach (var obj in SuiteManifests.Load(manifest, placeholders))
        {
            await ApplyObjectAsync(obj, cleanup).ConfigureAwait(false);
        }
    }

    public async Task<JsonObject> ApplyObjectAsync(JsonObject obj, bool cleanup = true)
    {
        if (obj["kind"]?.GetValue<string>() == "Gateway")
        {
            OverlayAddresses(obj);
        }

        var result = await Kube.ApplyAsync(obj, Ct).ConfigureAwait(false);
        await Env.OnAppliedAsync(obj, Ct).ConfigureAwait(false);
        if (cleanup && !created.Any(c => SameObject(c, obj)))
        {
            created.Add(obj);
        }

        return result;
    }

    /// <summary>Deletes what the test created, newest first, and waits until it is gone.</summary>
    public async Task CleanupAsync()
    {
        for (var i = created.Count - 1; i >= 0; i--)
        {
            var (ns, name) = Names.Read(created[i]);
            await Kube.DeleteAndWaitAsync(KubeObjects.TypeOf(created[i]), ns, name, Options.Timeout, CancellationToken.None).ConfigureAwait(false);
        }

        created.Clear();
    }

    /// <summary>Waits until the Gateway's listener port is reachable and returns its address (<c>host:port</c>).</summary>
    public async Task<string> GatewayAddressAsync(NN gateway, int port = 80)
    {
        string? address = null;
        await Poll.UntilAsync($"an address for Gateway {gateway} port {port}", Options.Timeout, async ct =>
        {
            address = await Env.TryGetGatewayAddressAsync(gateway, port, ct).ConfigureAwait(false);
            return (address is not null, "no address yet");
        }, Ct).ConfigureAwait(false);
        return address!;
    }

    /// <summary>
    /// Upstream's <c>MakeRequestAndExpectEventuallyConsistentResponse</c>: sends the request until
    /// <see cref="ConformanceOptions.RequiredConsecutiveSuccesses"/> answers in a row match, failing at the timeout
    /// with the last mismatch. The Gateway address is looked up on every attempt.
    /// </summary>
    public async Task ExpectAsync(NN gateway, ExpectedResponse expected, int port = 80)
    {
        var successes = 0;
        await Poll.UntilAsync(expected.Describe(), Options.Timeout, async ct =>
        {
            var address = await Env.TryGetGatewayAddressAsync(gateway, port, ct).ConfigureAwait(false);
            if (address is null)
            {
                successes = 0;
                return (false, "the Gateway has no address");
            }

            while (true)
            {
                var why = await TryOnceAsync(address, expected, ct).ConfigureAwait(false);
                if (why is not null)
                {
                    successes = 0;
                    return (false, why);
                }

                if (++successes >= Options.RequiredConsecutiveSuccesses)
                {
                    return (true, "");
                }
            }
        }, Ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Upstream's <c>MakeTLSRequestAndExpectFailureResponse</c>: one request that must not be answered at all (the TLS
    /// handshake or the exchange fails). When the request presents a client certificate, the Gateway must have asked
    /// for it. A Gateway port the data plane serves nothing on counts as a refused connection.
    /// </summary>
    public async Task ExpectFailureAsync(NN gateway, ExpectedResponse expected, int port)
    {
        var address = await Env.TryGetGatewayAddressAsync(gateway, port, Ct).ConfigureAwait(false);
        if (address is null)
        {
            Log($"conformance: {expected.Describe()}: nothing serves port {port} of Gateway {gateway}, a connection is refused");
            return;
        }

        var exchange = new TlsExchange { ClientCertificate = expected.Request.ClientCertificate, ServerCertificate = expected.Request.ServerCertificate };
        CapturedResponse? actual = null;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            try
            {
                actual = await Http.SendAsync(address, expected, exchange, timeout.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                Log($"conformance: {expected.Describe()} failed as expected: {ex.Message} {ex.InnerException?.Message}");
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
                Log($"conformance: {expected.Describe()} got no answer, as expected");
            }
        }

        if (actual is not null)
        {
            throw new ConformanceException($"{expected.Describe()} at {address} should fail, but was answered with status {actual.StatusCode}");
        }

        if (expected.Request.ClientCertificate is not null && !exchange.ClientCertificateSent)
        {
            throw new ConformanceException($"{expected.Describe()} at {address}: the Gateway did not ask for the client certificate during the TLS handshake");
        }
    }

    /// <summary>Sends once; null when the answer matched, otherwise why not.</summary>
    public async Task<string?> TryOnceAsync(string address, ExpectedResponse expected, CancellationToken ct)
    {
        CapturedResponse actual;
        try
        {
            actual = await Http.SendAsync(address, expected, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            return $"request failed: {ex.Message}";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"no answer within {Http.RequestTimeout.TotalSeconds:0.#}s";
        }

        return GatewayHttp.Compare(expected, actual, address);
    }

    public static NN Nn(string ns, string name) => new(ns, name);

    /// <summary>
    /// Upstream's applier: a Gateway whose <c>spec.addresses</c> holds the value <c>PLACEHOLDER_UNUSABLE_ADDRS</c> or
    /// <c>PLACEHOLDER_USABLE_ADDRS</c> gets the suite's unusable and usable addresses instead, after the addresses of
    /// type <c>test/fake-invalid-type</c>, which are kept; every other address is dropped.
    /// </summary>
    private void OverlayAddresses(JsonObject gateway)
    {
        if (gateway["spec"]?["addresses"] is not JsonArray { Count: > 0 } addresses)
        {
            return;
        }

        var values = addresses.Select(a => Conditions.Str(a, "value")).ToList();
        var usable = values.Contains("PLACEHOLDER_USABLE_ADDRS");
        var unusable = values.Contains("PLACEHOLDER_UNUSABLE_ADDRS");
        var special = addresses.Where(a => Conditions.Str(a, "type") == "test/fake-invalid-type").Select(a => a!.DeepClone()).ToList();
        if (!usable && !unusable && special.Count == 0)
        {
            return;
        }

        var overlay = new JsonArray([.. special]);
        foreach (var address in (unusable ? Options.UnusableNetworkAddresses : []).Concat(usable ? Options.UsableNetworkAddresses : []))
        {
            overlay.Add(new JsonObject { ["type"] = address.Type, ["value"] = address.Value });
        }

        gateway["spec"]!["addresses"] = overlay;
    }

    private static bool SameObject(JsonObject a, JsonObject b) =>
        KubeObjects.TypeOf(a) == KubeObjects.TypeOf(b) && Names.Read(a) == Names.Read(b);
}
