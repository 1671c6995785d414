using System.Text;
using Switchyard.Ir;

namespace Switchyard.Controller.Tests.Ir;

public sealed class GatewaySnapshotTests
{
    private static GatewaySnapshot Build(string secret = "-----BEGIN PRIVATE KEY-----SECRETKEYBYTES") => new()
    {
        Name = "default/gw",
        Listeners =
        [
            new ListenerIr
            {
                Name = "gateway/default/gw/listener/wt",
                Protocol = ListenerProtocol.Https,
                Port = 443,
                Tls = new TlsIr { Certificates = [new CertificateIr { Name = "secret/default/tls", CertificatePem = [.. Encoding.ASCII.GetBytes("CERT")], PrivateKeyPem = [.. Encoding.ASCII.GetBytes(secret)] }] },
                WebTransportRoutes =
                [
                    new WebTransportRouteIr
                    {
                        Name = "webtransportroute/default/media",
                        Rules =
                        [
                            new WebTransportRuleIr
                            {
                                Name = "webtransportroute/default/media/rule/0",
                                Matches = [new WebTransportMatchIr { TrackType = "video" }],
                                Backends = [new WeightedBackendIr { Name = "service/default/v/port/80", Endpoints = [new EndpointIr { Host = "127.0.0.1", Port = 5001 }] }],
                                Delivery = new DeliveryIr { Path = "/process_video" },
                            },
                        ],
                    },
                ],
            },
        ],
    };

    [Fact]
    public void Equals_SeparatelyBuiltEqualSnapshots_AreEqual()
    {
        Assert.Equal(Build(), Build());
        Assert.Equal(Build().GetHashCode(), Build().GetHashCode());
        Assert.NotEqual(Build(), Build("another key"));
    }

    [Fact]
    public void ToString_RedactsKeyMaterial()
    {
        var text = Build().ToString();

        Assert.DoesNotContain("SECRETKEYBYTES", text, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETKEYBYTES", Build().Listeners[0].Tls!.Certificates[0].ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETKEYBYTES", Build().Listeners[0].ToString(), StringComparison.Ordinal);
        Assert.Contains("redacted", text, StringComparison.Ordinal);
        Assert.Contains("/process_video", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ValidSnapshot_HasNoErrors() => Assert.Empty(Build().Validate());

    [Fact]
    public void Validate_ManyProblems_ReportsEveryOne()
    {
        var good = Build();
        var listener = good.Listeners[0];
        var rule = listener.WebTransportRoutes[0].Rules[0] with
        {
            Matches = [new WebTransportMatchIr { TrackType = "much-too-long-type" }],
            Delivery = new DeliveryIr { Path = "no-slash", Timeout = TimeSpan.Zero, RetryAttempts = 11 },
        };
        var bad = good with
        {
            Listeners =
            [
                listener with { Port = 0, Tls = null, WebTransportRoutes = [listener.WebTransportRoutes[0] with { Rules = [rule] }] },
                listener with { Protocol = ListenerProtocol.Http, Port = 0, WebTransportRoutes = [] },
            ],
        };

        var errors = bad.Validate();

        Assert.Contains(errors, e => e.Contains("outside 1-65535", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("no certificate", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("track type", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("delivery path", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("timeout must be positive", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("retry attempts", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("duplicate listener name", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("HTTP listener has TLS", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("both HTTP and HTTPS", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ClientValidation_NeedsCasAndOneSettingPerPort()
    {
        var good = Build();
        var listener = good.Listeners[0];
        var validation = new ClientValidationIr
        {
            Mode = FrontendValidationMode.AllowValidOnly,
            CaCertificates = [new CaCertificateIr { Name = "configmap/default/ca", CertificatePem = [.. Encoding.ASCII.GetBytes("CA")] }],
        };
        var validating = listener with { Tls = listener.Tls! with { ClientValidation = validation } };
        Assert.Empty((good with { Listeners = [validating] }).Validate());
        Assert.NotEqual(good, good with { Listeners = [validating] });

        var bad = good with
        {
            Listeners =
            [
                validating with { Tls = validating.Tls! with { ClientValidation = validation with { CaCertificates = [] } } },

                // A second HTTPS listener on the same port without the validation: one handshake cannot honour both.
                listener with { Name = "gateway/default/gw/listener/other", Hostname = "other.example", WebTransportRoutes = [] },
            ],
        };

        var errors = bad.Validate();

        Assert.Contains(errors, e => e.Contains("has no CA certificate", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("different client certificate validation", StringComparison.Ordinal));
        Assert.Contains("mode: AllowValidOnly", (good with { Listeners = [validating] }).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Retry_NeedsErrorCodesAndNonNegativeAttemptsAndBackoff()
    {
        HttpRouteIr Route(RetryIr retry) => new()
        {
            Name = "httproute/default/r/rule/0/match/0",
            Match = new HttpMatchIr(),
            Backends = [new HttpBackendIr { Backend = new WeightedBackendIr { Name = "service/default/v/port/80", Endpoints = [new EndpointIr { Host = "127.0.0.1", Port = 5001 }] } }],
            Retry = retry,
        };
        GatewaySnapshot With(RetryIr retry) => new()
        {
            Name = "default/gw",
            Listeners = [new ListenerIr { Name = "gateway/default/gw/listener/http", Protocol = ListenerProtocol.Http, Port = 80, VirtualHosts = [new VirtualHostIr { Name = "vhost/*", Hostname = "*", Routes = [Route(retry)] }] }],
        };
        var good = new RetryIr { Codes = [500, 503], Attempts = 2, Backoff = TimeSpan.FromMilliseconds(25) };

        Assert.Empty(With(good).Validate());
        Assert.Equal(With(good), With(good with { Codes = [500, 503] }));
        Assert.NotEqual(With(good), With(good with { Attempts = 3 }));

        var errors = With(new RetryIr { Codes = [302, 500, 600], Attempts = -1, Backoff = TimeSpan.FromMilliseconds(-1) }).Validate();

        Assert.Contains(errors, e => e.Contains("retry code 302", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("retry code 600", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.Contains("retry code 500", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("retry attempts -1", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("negative retry backoff", StringComparison.Ordinal));
    }
}
