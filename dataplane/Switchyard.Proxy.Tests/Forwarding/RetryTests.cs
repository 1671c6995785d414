using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Switchyard.Ir;

namespace Switchyard.Proxy.Tests.Forwarding;

/// <summary>HTTPRoute retries (GEP-1731) against real Kestrel backends that fail a set number of times.</summary>
public class RetryTests
{
    private static RetryIr Retry(int attempts, int[] codes, int backoffMs = 0) =>
        new() { Attempts = attempts, Codes = [.. codes], Backoff = TimeSpan.FromMilliseconds(backoffMs) };

    /// <summary>A backend whose first <paramref name="failures"/> requests answer <paramref name="status"/> with a body naming the try.</summary>
    private static Task<TestBackend> FailingBackendAsync(int failures, int status, ConcurrentQueue<string>? bodies = null)
    {
        var count = 0;
        return TestBackend.StartAsync("flaky", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            bodies?.Enqueue(await reader.ReadToEndAsync());
            var n = Interlocked.Increment(ref count);
            if (n <= failures)
            {
                context.Response.StatusCode = status;
                context.Response.Headers["X-Failed-Try"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await context.Response.WriteAsync($"failure {n}");
                return;
            }

            await context.Response.WriteAsync("ok");
        });
    }

    [Theory]
    // Two failures, three retries allowed: the third try answers.
    [InlineData(2, 3, 200, "ok", 3)]
    // As many failures as retries: the last retry answers.
    [InlineData(2, 2, 200, "ok", 3)]
    // More failures than retries: the last failure stands, with its own body and headers.
    [InlineData(5, 2, 500, "failure 3", 3)]
    // Attempts 0: never retried.
    [InlineData(1, 0, 500, "failure 1", 1)]
    public async Task BackendFailsWithListedCode_RetriedUpToAttempts(int failures, int attempts, int expectedStatus, string expectedBody, int expectedTries)
    {
        await using var backend = await FailingBackendAsync(failures, 500);
        var route = Ir.Route("r", [Ir.To(backend)]) with { Retry = Retry(attempts, [500, 502]) };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));

        using var response = await proxy.GetAsync("/");

        Assert.Equal(expectedStatus, (int)response.StatusCode);
        Assert.Equal(expectedBody, await response.Content.ReadAsStringAsync());
        Assert.Equal(expectedTries, backend.Requests.Count);
        if (expectedStatus == 200)
        {
            // A discarded try's headers do not leak into the kept answer.
            Assert.Null(response.Header("X-Failed-Try"));
        }
    }

    [Fact]
    public async Task CodeNotListed_AnswersAtOnce()
    {
        await using var backend = await FailingBackendAsync(1, 503);
        var route = Ir.Route("r", [Ir.To(backend)]) with { Retry = Retry(3, [500]) };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));

        using var response = await proxy.GetAsync("/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Single(backend.Requests);
    }

    [Fact]
    public async Task NoRetryPolicy_AnswersFirstFailure()
    {
        await using var backend = await FailingBackendAsync(1, 500);
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [Ir.To(backend)])));

        using var response = await proxy.GetAsync("/");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Single(backend.Requests);
    }

    [Fact]
    public async Task SmallBody_IsReplayedOnEveryTry()
    {
        var bodies = new ConcurrentQueue<string>();
        await using var backend = await FailingBackendAsync(2, 500, bodies);
        var route = Ir.Route("r", [Ir.To(backend)]) with { Retry = Retry(2, [500]) };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));

        using var response = await proxy.Client.PostAsync(proxy.Url("/"), new StringContent("hello retry"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["hello retry", "hello retry", "hello retry"], bodies);
    }

    [Theory]
    // Longer than the replay buffer.
    [InlineData(true)]
    // Of unknown length (chunked): it streams as it arrives, so there is no copy to replay.
    [InlineData(false)]
    public async Task BodyThatCannotBeReplayed_IsSentOnceAndNotRetried(bool large)
    {
        var bodies = new ConcurrentQueue<string>();
        await using var backend = await FailingBackendAsync(1, 500, bodies);
        var route = Ir.Route("r", [Ir.To(backend)]) with { Retry = Retry(3, [500]) };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));
        var text = new string('x', large ? Switchyard.Proxy.Forwarding.HttpForwarder.MaxReplayableBody + 1 : 10);
        using var request = new HttpRequestMessage(HttpMethod.Post, proxy.Url("/")) { Content = new StringContent(text) };
        request.Headers.TransferEncodingChunked = !large;

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal([text], bodies);
    }

    [Fact]
    public async Task Backoff_IsWaitedBetweenTries()
    {
        await using var backend = await FailingBackendAsync(2, 500);
        var route = Ir.Route("r", [Ir.To(backend)]) with { Retry = Retry(2, [500], backoffMs: 200) };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));

        var watch = Stopwatch.StartNew();
        using var response = await proxy.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(380), $"two backoffs of 200ms, took {watch.Elapsed}");
    }

    [Fact]
    public async Task RequestTimeout_BoundsAllTries_LastAnswerStands()
    {
        await using var backend = await FailingBackendAsync(int.MaxValue, 500);
        var route = Ir.Route("r", [Ir.To(backend)]) with
        {
            Retry = Retry(50, [500], backoffMs: 400),
            RequestTimeout = TimeSpan.FromMilliseconds(1000),
        };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));

        var watch = Stopwatch.StartNew();
        using var response = await proxy.GetAsync("/");

        // Tries at about 0, 400 and 800ms; no backoff is started that would end after the deadline, so the last
        // failure is answered. Under heavy load the last try may itself straddle the deadline and answer 504.
        Assert.True(response.StatusCode is HttpStatusCode.InternalServerError or HttpStatusCode.GatewayTimeout, $"status {response.StatusCode}");
        Assert.InRange(backend.Requests.Count, 2, 3);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task BackendRequestTimeout_IsPerTry()
    {
        var count = 0;
        await using var backend = await TestBackend.StartAsync("slow-once", async context =>
        {
            if (Interlocked.Increment(ref count) == 1)
            {
                await Task.Delay(5000, context.RequestAborted);
            }

            await context.Response.WriteAsync("ok");
        });
        var route = Ir.Route("r", [Ir.To(backend)]) with
        {
            Retry = Retry(1, [500]),
            BackendRequestTimeout = TimeSpan.FromMilliseconds(300),
            RequestTimeout = TimeSpan.FromSeconds(4),
        };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));

        using var response = await proxy.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ConnectionFailure_IsRetriedOnTheNextEndpoint()
    {
        int deadPort;
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            deadPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
        }

        await using var live = await TestBackend.StartAsync("live");
        // Endpoints take turns starting with the first, so the first try goes to the dead one.
        var backend = new HttpBackendIr { Backend = Ir.Backend("mixed", 1, new EndpointIr { Host = "127.0.0.1", Port = deadPort }, live.Endpoint) };
        var route = Ir.Route("r", [backend]) with { Retry = Retry(1, []) };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));

        using var response = await proxy.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("live", await response.Content.ReadAsStringAsync());
    }
}
