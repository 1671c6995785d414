using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Switchyard.Delivery.Tests;

/// <summary>A real Kestrel backend on loopback that records every POST and answers as told.</summary>
internal sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestBackend(WebApplication app) => _app = app;

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>Decides the status of each request (1-based count); 200 unless set.</summary>
    public Func<int, int> Status { get; set; } = _ => 200;

    public TimeSpan Delay { get; set; }

    public int Port { get; private set; }

    private int _count;

    public static async Task<TestBackend> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var backend = new TestBackend(app);
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            var n = Interlocked.Increment(ref backend._count);
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            if (backend.Delay > TimeSpan.Zero)
            {
                await Task.Delay(backend.Delay);
            }

            var status = backend.Status(n);
            if (status is >= 200 and < 300)
            {
                backend.Requests.Enqueue(new Received(
                    context.Request.Path,
                    context.Request.Headers["X-Track-Id"].ToString(),
                    context.Request.Headers["X-Track-Type"].ToString(),
                    context.Request.Headers["X-Session-Id"].ToString(),
                    long.Parse(context.Request.Headers["X-Stream-Id"].ToString(), System.Globalization.CultureInfo.InvariantCulture),
                    long.Parse(context.Request.Headers["X-Message-Seq"].ToString(), System.Globalization.CultureInfo.InvariantCulture),
                    body.ToArray()));
            }

            context.Response.StatusCode = status;
        });
        await app.StartAsync();
        backend.Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public sealed record Received(string Path, string TrackId, string TrackType, string SessionId, long StreamId, long Sequence, byte[] Body);
}
