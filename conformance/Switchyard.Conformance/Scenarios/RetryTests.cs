using System.Globalization;
using Switchyard.Conformance.Http;
using Switchyard.Conformance.Kube;
using static Switchyard.Conformance.Scenarios.Dsl;

namespace Switchyard.Conformance.Scenarios;

/// <summary>HTTPRouteRetry (experimental channel, GEP-1731), against the echo backend's retry simulation.</summary>
internal static class RetryTests
{
    private const string A3 = "/retry/code-500-attempts-3";
    private const string All2 = "/retry/code-all-attempts-2";

    public static IEnumerable<ConformanceTest> All()
    {
        yield return new("HTTPRouteRetry", "A rule's retry policy retries the listed codes up to its attempts: the request succeeds when the backend recovers in time and keeps the backend's error when it does not.", ["HTTPRouteRetry"], ["tests/httproute-retry.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            var route = Route("retries");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [route], t.Ct);
            await t.Waiters.HttpRoutesMustHaveResolvedRefsAsync(gw, [route], t.Ct);

            // (path, status the backend fails with, how many requests fail before it answers, the status expected).
            (string Path, int Code, int SucceedAfter, int Want)[] cases =
            [
                (A3, 500, 2, 200),
                (A3, 500, 4, 500),
                (A3, 503, 2, 503),
                (All2, 500, 1, 200),
                (All2, 500, 3, 500),
                (All2, 502, 1, 200),
                (All2, 502, 3, 502),
                (All2, 503, 1, 200),
                (All2, 503, 3, 503),
                (All2, 504, 1, 200),
                (All2, 504, 3, 504),
            ];
            foreach (var c in cases)
            {
                await ExpectConvergedAsync(t, gw, c.Path, c.Code, c.SucceedAfter, c.Want);
            }
        });
    }

    /// <summary>
    /// Upstream's <c>AwaitConvergence</c> over fresh simulations: every probe carries a new <c>uuid</c>, so the backend
    /// counts its tries from zero, and the required number of consecutive probes must get <paramref name="want"/>
    /// (a 200 from infra-backend-v3; an error as the backend gave it).
    /// </summary>
    private static async Task ExpectConvergedAsync(TestContext t, NN gw, string path, int code, int succeedAfter, int want)
    {
        ExpectedResponse Probe() => new()
        {
            Request = new Request
            {
                Path = string.Create(CultureInfo.InvariantCulture, $"{path}?responseCode={code}&succeedAfter={succeedAfter}&uuid={Guid.NewGuid():D}"),
            },
            StatusCodes = [want],
            Backend = "infra-backend-v3",
            Namespace = Infra,
        };

        var what = string.Create(CultureInfo.InvariantCulture, $"{path} failing {succeedAfter} times with {code} answers {want}");
        var successes = 0;
        await Poll.UntilAsync(what, t.Options.Timeout, async ct =>
        {
            var address = await t.Env.TryGetGatewayAddressAsync(gw, 80, ct).ConfigureAwait(false);
            if (address is null)
            {
                successes = 0;
                return (false, "the Gateway has no address");
            }

            while (true)
            {
                if (await t.TryOnceAsync(address, Probe(), ct).ConfigureAwait(false) is { } why)
                {
                    successes = 0;
                    return (false, why);
                }

                if (++successes >= t.Options.RequiredConsecutiveSuccesses)
                {
                    return (true, "");
                }
            }
        }, t.Ct).ConfigureAwait(false);
        t.Log($"conformance: {what}: passed");
    }
}
