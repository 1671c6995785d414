using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Switchyard.Delivery.Tests;

/// <summary>
/// A real Kestrel backend on loopback for <c>Stream</c> delivery: it reads each request body as it arrives (so a test
/// can watch bytes land before the body ends), can hold reading back, can die mid-body, and answers as told.
/// </summary>
internal sealed class StreamingBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _started;
    private long _bytesRead;

    private StreamingBackend(WebApplication app) => _app = app;

    /// <summary>Bodies read to their end, with the request's headers.</summary>
    public ConcurrentQueue<Upload> Uploads { get; } = new();

    /// <summary>Status to answer for the n-th request (1-based), after its whole body was read.</summary>
    public Func<int, int> Status { get; set; } = _ => 200;

    /// <summary>Reading waits for this: leave it pending to make a backend that accepts a request but does not read.</summary>
    public TaskCompletionSource ReadGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completing it makes every request in progress abort its connection (RST), as a killed process would.</summary>
    public TaskCompletionSource Kill { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int RequestsStarted => Volatile.Read(ref _started);

    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public int Port { get; private set; }

    /// <summary>When set, requests are answered with this status at once, before any of the body is read.</summary>
    public int? AnswerBeforeReading { get; set; }

    /// <summary>When true, the response starts with <see cref="Status"/> before the body is read, which then is read whole.</summary>
    public bool StartResponseBeforeReading { get; set; }

    public static async Task<StreamingBackend> StartAsync(bool gateOpen = true, int port = 0, HttpProtocols protocols = HttpProtocols.Http1)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();

        // Kestrel buffers at most this much of a request the app has not read yet.
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBufferSize = 64 * 1024;
            k.Listen(IPAddress.Loopback, port, l => l.Protocols = protocols);
        });
        var app = builder.Build();
        var backend = new StreamingBackend(app);
        if (gateOpen)
        {
            backend.ReadGate.TrySetResult();
        }

        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            var n = Interlocked.Increment(ref backend._started);
            if (backend.AnswerBeforeReading is { } early)
            {
                context.Response.StatusCode = early;
                await context.Response.CompleteAsync();
                return;
            }

            // A streaming body lives as long as its WebTransport stream: no size cap, no minimum data rate.
            context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = null;
            context.Features.Get<IHttpMinRequestBodyDataRateFeature>()!.MinDataRate = null;
            if (backend.StartResponseBeforeReading)
            {
                context.Response.StatusCode = backend.Status(n);
                await context.Response.StartAsync();
            }

            await Task.WhenAny(backend.ReadGate.Task, backend.Kill.Task);
            using var body = new MemoryStream();
            var buffer = new byte[16 * 1024];
            while (true)
            {
                if (backend.Kill.Task.IsCompleted)
                {
                    context.Abort();
                    return;
                }

                var read = context.Request.Body.ReadAsync(buffer).AsTask();
                if (await Task.WhenAny(read, backend.Kill.Task) != read)
                {
                    context.Abort();
                    return;
                }

                var count = await read;
                if (count == 0)
                {
                    break;
                }

                body.Write(buffer, 0, count);
                Interlocked.Add(ref backend._bytesRead, count);
            }

            var status = backend.Status(n);
            backend.Uploads.Enqueue(new Upload(
                context.Request.Path,
                context.Request.ContentType,
                context.Request.Headers["X-Track-Id"].ToString(),
                context.Request.Headers["X-Track-Type"].ToString(),
                context.Request.Headers["X-Session-Id"].ToString(),
                context.Request.Headers["X-Stream-Id"].ToString(),
                status,
                body.ToArray()));
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = status;
            }
        });
        await app.StartAsync();
        backend.Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        Kill.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public sealed record Upload(string Path, string? ContentType, string TrackId, string TrackType, string SessionId, string StreamId, int Status, byte[] Body);
}
