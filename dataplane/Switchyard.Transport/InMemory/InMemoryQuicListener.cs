using System.Net;
using System.Threading.Channels;

namespace Switchyard.Transport.InMemory;

/// <summary>An in-memory listener: connections made with <see cref="InMemoryQuicTransport.ConnectAsync"/> to its port arrive here.</summary>
public sealed class InMemoryQuicListener : IQuicListener
{
    private readonly Channel<InMemoryQuicConnection> _pending;
    private readonly Action<InMemoryQuicListener> _onDispose;
    private int _disposed;

    internal InMemoryQuicListener(IPEndPoint endPoint, InMemoryQuicConnectionOptions options, int backlog, Action<InMemoryQuicListener> onDispose)
    {
        LocalEndPoint = endPoint;
        Options = options;
        _onDispose = onDispose;
        _pending = Channel.CreateBounded<InMemoryQuicConnection>(new BoundedChannelOptions(Math.Max(1, backlog)) { FullMode = BoundedChannelFullMode.DropWrite });
    }

    /// <inheritdoc />
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>What server-side connections of this listener advertise.</summary>
    public InMemoryQuicConnectionOptions Options { get; }

    /// <inheritdoc />
    public async ValueTask<IQuicConnection> AcceptConnectionAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _pending.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(InMemoryQuicListener));
        }
    }

    /// <summary>Queues a server-side connection; false when the backlog is full (the connection is refused).</summary>
    internal bool TryEnqueue(InMemoryQuicConnection connection) => _pending.Writer.TryWrite(connection);

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _pending.Writer.TryComplete();
            _onDispose(this);
        }

        return ValueTask.CompletedTask;
    }
}
