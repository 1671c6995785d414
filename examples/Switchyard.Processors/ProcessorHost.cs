using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.DependencyInjection;
using Switchyard.Processors.Accounting;
using Switchyard.Processors.Payloads;
using Switchyard.Tracks.Framing;

namespace Switchyard.Processors;

/// <summary>
/// An example backend compatible with the seed project's Python microservices: a Kestrel server that takes one HTTP
/// POST per message from the gateway's <c>Message</c> delivery, processes it cheaply, and counts it per track.
/// </summary>
/// <remarks>
/// <para>Endpoints:</para>
/// <list type="bullet">
/// <item><c>POST /process_video</c>, <c>/process_audio</c> or <c>/process_chat</c> (only the host's own kind; the others
/// answer 404 so that a misrouted track shows up as a delivery error rather than as silently wrong counts). The body is
/// the payload; the gateway's headers <c>X-Track-Id</c>, <c>X-Track-Type</c>, <c>X-Session-Id</c>, <c>X-Stream-Id</c>
/// and <c>X-Message-Seq</c> name it. The answer is 200 with a small JSON report, 400 for a payload or header the
/// processor refuses, 413 for a payload above <see cref="ProcessorHostOptions.MaxPayloadBytes"/>.</item>
/// <item>The same paths take the gateway's <c>Stream</c> delivery: a request of media type
/// <c>application/vnd.switchyard.track-stream</c> whose body is every message of one WebTransport stream, each a
/// 32-byte track header and its payload. Each message is processed and counted as it arrives, under the track ID of
/// its own header; the answer, once the body ends, is 200 with the counts, or 400 at the first malformed header or
/// refused payload (the messages before it stay counted).</item>
/// <item><c>GET /stats</c>: <c>{"tracks": {"&lt;track_id&gt;": {"messages": N, "bytes": B}}}</c>, counting payload bytes
/// of messages answered 200, each (session, stream, sequence) once: the gateway delivers at least once, so a retried
/// POST is answered 200 again but not counted again.</item>
/// <item><c>GET /healthz</c>: <c>{"status": "ok", "kind": "video"}</c>.</item>
/// </list>
/// </remarks>
public sealed class ProcessorHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ProcessorHostOptions _options;
    private readonly TrackStatistics _statistics = new();
    private readonly DeliveryDeduplicator _deduplicator;
    private int _disposed;
    private long _streamRequests;

    private ProcessorHost(ProcessorKind kind, WebApplication app, ProcessorHostOptions options)
    {
        Kind = kind;
        _app = app;
        _options = options;
        _deduplicator = new DeliveryDeduplicator(options.MaxTrackedStreams);
    }

    /// <summary>The kind of payload this host processes.</summary>
    public ProcessorKind Kind { get; }

    /// <summary>The address the host listens on, with the port the system chose when port 0 was asked for.</summary>
    public IPEndPoint EndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>The bound TCP port.</summary>
    public int Port => EndPoint.Port;

    /// <summary>The base URL of the host, for example <c>http://127.0.0.1:5001/</c>.</summary>
    public Uri BaseAddress => new($"http://{EndPoint}/");

    /// <summary>Requests taken as <c>Stream</c> delivery (one per WebTransport stream), whatever their outcome.</summary>
    public long StreamRequests => Interlocked.Read(ref _streamRequests);

    /// <summary>The path this host takes messages on: <see cref="PathFor"/> of <see cref="Kind"/>.</summary>
    public string ProcessPath => PathFor(Kind);

    internal TrackStatistics Statistics => _statistics;

    internal DeliveryDeduplicator Deduplicator => _deduplicator;

    /// <summary>The message path of a kind: <c>/process_video</c>, <c>/process_audio</c> or <c>/process_chat</c>.</summary>
    public static string PathFor(ProcessorKind kind) => kind switch
    {
        ProcessorKind.Video => "/process_video",
        ProcessorKind.Audio => "/process_audio",
        ProcessorKind.Chat => "/process_chat",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown processor kind."),
    };

    /// <summary>Starts a processor with default options. Use port 0 to let the system choose; read it from <see cref="Port"/>.</summary>
    /// <param name="kind">The payload the host processes.</param>
    /// <param name="listen">Where to listen, for example <c>127.0.0.1:5001</c>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running host; dispose it to stop it.</returns>
    public static Task<ProcessorHost> StartAsync(ProcessorKind kind, IPEndPoint listen, CancellationToken cancellationToken = default) =>
        StartAsync(kind, listen, new ProcessorHostOptions(), cancellationToken);

    /// <summary>Starts a processor. Use port 0 to let the system choose; read it from <see cref="Port"/>.</summary>
    /// <param name="kind">The payload the host processes.</param>
    /// <param name="listen">Where to listen, for example <c>127.0.0.1:5001</c>.</param>
    /// <param name="options">Limits and hooks.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running host; dispose it to stop it.</returns>
    public static async Task<ProcessorHost> StartAsync(ProcessorKind kind, IPEndPoint listen, ProcessorHostOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPayloadBytes, 0);
        _ = PathFor(kind);

        // The empty builder reads no configuration, environment variables or appsettings, and logs nowhere: the host
        // is embedded in the CLI and must listen exactly where it is told.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxPayloadBytes;
            kestrel.Listen(listen);
        });
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        var host = new ProcessorHost(kind, app, options);
        app.UseRouting();
        app.MapPost(PathFor(kind), (RequestDelegate)host.ProcessAsync);
        app.MapGet("/stats", (RequestDelegate)host.StatsAsync);
        app.MapGet("/healthz", (RequestDelegate)host.HealthAsync);

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        host.EndPoint = new IPEndPoint(listen.Address, new Uri(address).Port);
        return host;
    }

    /// <summary>Stops the server, letting requests in progress finish. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <remarks>
    /// :: Step 1 read the naming headers; :: Step 2 read the body within the limit; :: Step 3 process the payload;
    /// :: Step 4 count it unless it repeats a delivered key; :: Step 5 answer with the report.
    /// </remarks>
    private async Task ProcessAsync(HttpContext context)
    {
        if (IsTrackStream(context.Request.ContentType))
        {
            await ProcessStreamAsync(context).ConfigureAwait(false);
            return;
        }

        // :: Step 1
        var headers = context.Request.Headers;
        var trackId = headers["X-Track-Id"].ToString();
        if (trackId.Length == 0)
        {
            // A request straight from curl has no track; count it under a name that says so.
            trackId = "unknown";
        }

        var trackType = headers["X-Track-Type"].ToString();
        if (!TryReadDeliveryKey(headers, out var key, out var keyError))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, keyError!).ConfigureAwait(false);
            return;
        }

        // :: Step 2
        var body = await ReadBodyAsync(context.Request.BodyReader, _options.MaxPayloadBytes, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, $"payload above {_options.MaxPayloadBytes} bytes").ConfigureAwait(false);
            return;
        }

        var (buffer, length) = body.Value;
        try
        {
            // :: Step 3
            var payload = buffer.AsMemory(0, length);
            var report = Process(payload);
            if (report.Error is not null)
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, report.Error).ConfigureAwait(false);
                return;
            }

            // :: Step 4
            // Counting before the answer is written is deliberate: if the answer is lost, the gateway retries and the
            // retry is recognised below, so the message is still counted exactly once.
            var duplicate = key is { } k && !_deduplicator.TryMark(k.Session, k.Stream, k.Sequence);
            if (!duplicate)
            {
                _statistics.Add(trackId, length);
            }

            Notify(new ProcessedMessage(Kind, trackId, trackType, length, duplicate, report.Summary));

            // :: Step 5
            await WriteJsonAsync(context, StatusCodes.Status200OK, writer =>
            {
                writer.WriteString("status", "ok");
                writer.WriteString("track_id", trackId);
                writer.WriteNumber("bytes", length);
                if (duplicate)
                {
                    writer.WriteBoolean("duplicate", true);
                }

                report.WriteFields(writer);
            }).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The media type of the gateway's <c>Stream</c> delivery (its <c>HttpStreamDeliverer.ContentType</c>; this example
    /// backend depends on the wire contract, not on the gateway's libraries).
    /// </summary>
    internal const string TrackStreamContentType = "application/vnd.switchyard.track-stream";

    /// <summary>True for the Stream delivery media type; parameters after a <c>;</c> are ignored.</summary>
    private static bool IsTrackStream(string? contentType) =>
        contentType is not null && contentType.Split(';', 2)[0].Trim().Equals(TrackStreamContentType, StringComparison.OrdinalIgnoreCase);

    /// <remarks>
    /// A stream lives as long as its WebTransport stream: its body has no size bound beyond each message's and may be
    /// idle between messages (a chat track), so the request's body size and minimum data rate limits are lifted.
    /// The gateway retries such a request only when it could not connect, so nothing arrives twice and no key is kept.
    /// </remarks>
    private async Task ProcessStreamAsync(HttpContext context)
    {
        Interlocked.Increment(ref _streamRequests);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }

        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }

        var reader = new TrackMessageReader(context.Request.BodyReader, (uint)Math.Max(0, _options.MaxPayloadBytes));
        long messages = 0, bytes = 0;
        string? refusal = null;
        try
        {
            while (await reader.MoveNextAsync(context.RequestAborted).ConfigureAwait(false))
            {
                var message = reader.Current;
                var trackId = message.Header.GetTrackId();
                var payload = message.Payload.ToArray();
                var report = Process(payload);
                if (report.Error is not null)
                {
                    refusal = $"message {messages + 1} ({trackId}): {report.Error}";
                    break;
                }

                _statistics.Add(trackId, payload.Length);
                Notify(new ProcessedMessage(Kind, trackId, message.Header.GetTrackType(), payload.Length, false, report.Summary));
                messages++;
                bytes += payload.Length;
            }
        }
        catch (TrackHeaderException ex)
        {
            refusal = $"message {messages + 1}: {ex.Message}";
        }

        if (refusal is not null)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, refusal).ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteString("status", "ok");
            writer.WriteNumber("messages", messages);
            writer.WriteNumber("bytes", bytes);
        }).ConfigureAwait(false);
    }

    private PayloadReport Process(ReadOnlyMemory<byte> payload)
    {
        switch (Kind)
        {
            case ProcessorKind.Video:
                var jpeg = JpegInspector.Inspect(payload.Span);
                var size = jpeg.Width is { } w && jpeg.Height is { } h ? $"{w}x{h}" : "size unknown";
                var shape = !jpeg.IsJpeg ? "not a JPEG" : jpeg.Complete ? $"jpeg {size}" : $"truncated jpeg {size}";
                return new PayloadReport(null, shape, writer =>
                {
                    writer.WriteBoolean("jpeg", jpeg.IsJpeg);
                    writer.WriteBoolean("complete", jpeg.Complete);
                    if (jpeg.Width is { } width && jpeg.Height is { } height)
                    {
                        writer.WriteNumber("width", width);
                        writer.WriteNumber("height", height);
                    }
                });

            case ProcessorKind.Audio:
                var level = Pcm16Meter.Measure(payload.Span);
                var dbfs = level.Dbfs is { } db ? string.Create(CultureInfo.InvariantCulture, $"{db:F1} dBFS") : "silence";
                return new PayloadReport(null, $"pcm16 {level.Samples} samples {dbfs}", writer =>
                {
                    writer.WriteNumber("samples", level.Samples);
                    writer.WriteNumber("rms", Math.Round(level.Rms, 6));
                    writer.WriteNumber("peak", Math.Round(level.Peak, 6));
                    if (level.Dbfs is { } value)
                    {
                        writer.WriteNumber("dbfs", Math.Round(value, 2));
                    }
                    else
                    {
                        // JSON has no minus infinity; null says "silence" without a made-up floor.
                        writer.WriteNull("dbfs");
                    }
                });

            default:
                if (!ChatMessageParser.TryParse(payload, out var chat, out var error))
                {
                    return new PayloadReport(error, string.Empty, static _ => { });
                }

                return new PayloadReport(null, $"chat {chat!.User}: {chat.Message}", writer =>
                {
                    writer.WriteString("message_id", chat.MessageId);
                    writer.WriteString("user", chat.User);
                    writer.WriteNumber("length", chat.Message.Length);
                });
        }
    }

    private void Notify(ProcessedMessage message)
    {
        try
        {
            _options.OnMessage?.Invoke(message);
        }
#pragma warning disable CA1031 // A display hook must never fail a delivery the processor already accepted.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private Task StatsAsync(HttpContext context) => WriteJsonDocumentAsync(context, StatusCodes.Status200OK, _statistics.WriteJson);

    private Task HealthAsync(HttpContext context) => WriteJsonAsync(context, StatusCodes.Status200OK, writer =>
    {
        writer.WriteString("status", "ok");
        writer.WriteString("kind", Kind.ToString().ToLowerInvariant());
    });

    /// <summary>
    /// The de-duplication key is all three headers or none: a request from a tool without them is counted every time,
    /// but a half-named delivery is a caller bug worth a 400 rather than a silent double count.
    /// </summary>
    internal static bool TryReadDeliveryKey(IHeaderDictionary headers, out (string Session, long Stream, long Sequence)? key, out string? error)
    {
        key = null;
        error = null;
        var session = headers["X-Session-Id"].ToString();
        var stream = headers["X-Stream-Id"].ToString();
        var sequence = headers["X-Message-Seq"].ToString();
        if (session.Length == 0 && stream.Length == 0 && sequence.Length == 0)
        {
            return true;
        }

        if (session.Length == 0 || stream.Length == 0 || sequence.Length == 0)
        {
            error = "X-Session-Id, X-Stream-Id and X-Message-Seq go together: send all three or none";
            return false;
        }

        if (!long.TryParse(stream, NumberStyles.None, CultureInfo.InvariantCulture, out var streamId)
            || !long.TryParse(sequence, NumberStyles.None, CultureInfo.InvariantCulture, out var sequenceNumber))
        {
            error = "X-Stream-Id and X-Message-Seq must be non-negative decimal integers";
            return false;
        }

        key = (session, streamId, sequenceNumber);
        return true;
    }

    /// <summary>Reads the whole body into a pooled array, or returns null once it passes <paramref name="limit"/>.</summary>
    private static async Task<(byte[] Buffer, int Length)?> ReadBodyAsync(PipeReader reader, int limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                // Kestrel enforces the same limit (MaxRequestBodySize) and says so on the first read past it.
                return null;
            }

            var buffered = result.Buffer;
            if (buffered.Length > limit)
            {
                reader.AdvanceTo(buffered.Start, buffered.End);
                return null;
            }

            if (result.IsCompleted)
            {
                var length = (int)buffered.Length;
                var array = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                buffered.CopyTo(array);
                reader.AdvanceTo(buffered.End);
                return (array, length);
            }

            // Examined everything, consumed nothing: the pipe keeps the bytes and wakes us when more arrive.
            reader.AdvanceTo(buffered.Start, buffered.End);
        }
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string message) => WriteJsonAsync(context, status, writer =>
    {
        writer.WriteString("status", "error");
        writer.WriteString("error", message);
    });

    private static Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> writeFields) =>
        WriteJsonDocumentAsync(context, status, writer =>
        {
            writer.WriteStartObject();
            writeFields(writer);
            writer.WriteEndObject();
        });

    private static async Task WriteJsonDocumentAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    private readonly record struct PayloadReport(string? Error, string Summary, Action<Utf8JsonWriter> WriteFields);
}
