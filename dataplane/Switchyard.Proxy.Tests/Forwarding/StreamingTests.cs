using System.Net;
using Microsoft.AspNetCore.Http;

namespace Switchyard.Proxy.Tests.Forwarding;

/// <summary>
/// Streaming tests measure process-wide allocation, so they run alone: other test classes running in parallel would
/// count their own allocations against the bound.
/// </summary>
[CollectionDefinition(nameof(StreamingTests), DisableParallelization = true)]
public sealed class StreamingTestsCollection;

[Collection(nameof(StreamingTests))]
public class StreamingTests
{
    private const long Size = 50L * 1024 * 1024;

    /// <summary>A body generated from one reused buffer, so the client itself holds no copy of it.</summary>
    private sealed class GeneratedContent(long size) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = new byte[64 * 1024];
            for (long sent = 0; sent < size; sent += chunk.Length)
            {
                await stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, size - sent)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    [Fact]
    public async Task LargeBodies_StreamBothWaysWithBoundedMemory()
    {
        await using var backend = await TestBackend.StartAsync("big", async context =>
        {
            long received = 0;
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                received += n;
            }

            context.Response.Headers["X-Received"] = received.ToString(System.Globalization.CultureInfo.InvariantCulture);
            for (long sent = 0; sent < Size; sent += buffer.Length)
            {
                await context.Response.Body.WriteAsync(buffer);
            }
        });
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [Ir.To(backend)])));

        GC.Collect();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        using var request = new HttpRequestMessage(HttpMethod.Post, proxy.Url("/upload")) { Content = new GeneratedContent(Size) };
        using var response = await proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Size.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Header("X-Received"));
        await using var body = await response.Content.ReadAsStreamAsync();
        var readBuffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(readBuffer)) > 0)
        {
            total += read;
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.Equal(Size, total);

        // 100 MB went through the proxy; buffering either body whole would allocate at least 50 MB.
        Assert.True(allocated < 32L * 1024 * 1024, $"allocated {allocated / (1024 * 1024)} MB while streaming");
    }

    [Fact]
    public async Task ResponseChunks_ReachClientBeforeBackendFinishes()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync("drip", async context =>
        {
            await context.Response.WriteAsync("first;");
            await context.Response.Body.FlushAsync();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await context.Response.WriteAsync("second");
        });
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [Ir.To(backend)])));
        using var response = await proxy.Client.GetAsync(proxy.Url("/"), HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[6];
        await body.ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("first;", System.Text.Encoding.ASCII.GetString(buffer));
        release.SetResult();
        using var reader = new StreamReader(body);
        Assert.Equal("second", await reader.ReadToEndAsync());
    }
}
