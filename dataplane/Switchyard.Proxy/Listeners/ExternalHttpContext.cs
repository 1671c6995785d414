using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Switchyard.Proxy.Listeners;

/// <summary>
/// Adapts a <see cref="ProxiedHttpRequest"/> and an <see cref="IHttpResponseWriter"/> to an <see cref="HttpContext"/>,
/// so that requests from another server run through the very pipeline Kestrel requests do.
/// </summary>
internal sealed class ExternalHttpContext : IHttpResponseFeature, IHttpResponseBodyFeature, IHttpRequestLifetimeFeature, IHttpRequestBodyDetectionFeature
{
    private readonly IHttpResponseWriter _writer;
    private readonly CancellationTokenSource _aborted;
    private readonly ResponseStream _stream;
    private List<(Func<object, Task> Callback, object State)>? _onStarting;
    private bool _completed;

    private ExternalHttpContext(IHttpResponseWriter writer, CancellationToken clientGone, bool hasBody)
    {
        _writer = writer;
        _aborted = CancellationTokenSource.CreateLinkedTokenSource(clientGone);
        _stream = new ResponseStream(this);
        CanHaveBody = hasBody;
    }

    /// <summary>True when <see cref="Abort"/> was called.</summary>
    public bool Aborted { get; private set; }

    /// <inheritdoc />
    public int StatusCode { get; set; } = StatusCodes.Status200OK;

    /// <inheritdoc />
    public string? ReasonPhrase { get; set; }

    /// <inheritdoc />
    public IHeaderDictionary Headers { get; set; } = new HeaderDictionary();

    /// <inheritdoc />
    [Obsolete("Use IHttpResponseBodyFeature.Stream.")]
    public Stream Body { get => _stream; set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public bool HasStarted { get; private set; }

    /// <inheritdoc />
    public Stream Stream => _stream;

    /// <inheritdoc />
    public PipeWriter Writer => field ??= PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));

    /// <inheritdoc />
    public CancellationToken RequestAborted { get => _aborted.Token; set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public bool CanHaveBody { get; }

    /// <summary>Builds the context.</summary>
    public static (HttpContext Context, ExternalHttpContext Features) Create(ProxiedHttpRequest request, IHttpResponseWriter writer, CancellationToken clientGone)
    {
        var features = new FeatureCollection();
        var external = new ExternalHttpContext(writer, clientGone, request.Body is not null);
        var query = request.PathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var rawPath = query < 0 ? request.PathAndQuery : request.PathAndQuery[..query];
        var headers = new HeaderDictionary();
        foreach (var (name, value) in request.Headers)
        {
            headers.Append(name, value);
        }

        headers["Host"] = request.Authority;
        features.Set<IHttpRequestFeature>(new HttpRequestFeature
        {
            Protocol = request.Protocol,
            Scheme = request.Scheme,
            Method = request.Method,
            PathBase = string.Empty,
            Path = PathString.FromUriComponent(rawPath.Length == 0 ? "/" : rawPath).Value ?? "/",
            QueryString = query < 0 ? string.Empty : request.PathAndQuery[query..],
            RawTarget = request.PathAndQuery,
            Headers = headers,
            Body = request.Body ?? Stream.Null,
        });
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature
        {
            RemoteIpAddress = request.RemoteEndPoint?.Address,
            RemotePort = request.RemoteEndPoint?.Port ?? 0,
            LocalIpAddress = request.LocalEndPoint?.Address,
            LocalPort = request.LocalEndPoint?.Port ?? 0,
        });
        features.Set<IHttpResponseFeature>(external);
        features.Set<IHttpResponseBodyFeature>(external);
        features.Set<IHttpRequestLifetimeFeature>(external);
        features.Set<IHttpRequestBodyDetectionFeature>(external);
        return (new DefaultHttpContext(features), external);
    }

    /// <inheritdoc />
    public void Abort()
    {
        if (!Aborted)
        {
            Aborted = true;
            _writer.Abort();
            _aborted.Cancel();
        }
    }

    /// <inheritdoc />
    public void OnStarting(Func<object, Task> callback, object state) => (_onStarting ??= []).Add((callback, state));

    /// <inheritdoc />
    public void OnCompleted(Func<object, Task> callback, object state)
    {
        // Nothing in the pipeline registers completion callbacks; they are not run.
    }

    /// <inheritdoc />
    public void DisableBuffering()
    {
        // Every write goes straight to the writer.
    }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (HasStarted)
        {
            return;
        }

        if (_onStarting is { } callbacks)
        {
            for (var i = callbacks.Count - 1; i >= 0; i--)
            {
                await callbacks[i].Callback(callbacks[i].State).ConfigureAwait(false);
            }
        }

        HasStarted = true;
        var list = new List<KeyValuePair<string, string>>(Headers.Count);
        foreach (var (name, values) in Headers)
        {
            foreach (var value in values)
            {
                list.Add(new(name, value ?? string.Empty));
            }
        }

        await _writer.StartAsync(StatusCode, list, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The proxy never sends files.");

    /// <inheritdoc />
    public async Task CompleteAsync()
    {
        if (_completed || Aborted)
        {
            return;
        }

        await StartAsync(_aborted.Token).ConfigureAwait(false);
        _completed = true;
        await _writer.CompleteAsync([], _aborted.Token).ConfigureAwait(false);
    }

    /// <summary>Completes the exchange after the pipeline ran: ends normally unless it was aborted.</summary>
    public async Task FinishAsync()
    {
        try
        {
            if (!Aborted)
            {
                await CompleteAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            Abort();
        }
        finally
        {
            _aborted.Dispose();
        }
    }

    private sealed class ResponseStream(ExternalHttpContext owner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => owner.StartAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (owner.Aborted)
            {
                throw new IOException("The response was aborted.");
            }

            await owner.StartAsync(cancellationToken).ConfigureAwait(false);
            if (!buffer.IsEmpty)
            {
                await owner._writer.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
