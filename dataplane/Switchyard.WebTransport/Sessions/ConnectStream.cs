using Switchyard.Http3.Client;
using Switchyard.Http3.Server;

namespace Switchyard.WebTransport.Sessions;

/// <summary>The CONNECT stream of a session seen as a duplex byte stream of capsules (RFC 9297 §3), on either side.</summary>
internal interface IConnectStream
{
    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    ValueTask CompleteAsync(CancellationToken cancellationToken);

    void Abort(long errorCode);

    void StopReading(long errorCode);
}

internal sealed class ServerConnectStream(Http3Request request, Http3Response response) : IConnectStream
{
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => request.ReadBodyAsync(buffer, cancellationToken);

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => response.WriteAsync(data, cancellationToken);

    public ValueTask CompleteAsync(CancellationToken cancellationToken) => response.CompleteAsync(cancellationToken);

    public void Abort(long errorCode) => response.Abort(errorCode);

    public void StopReading(long errorCode) => request.StopReading(errorCode);
}

internal sealed class ClientConnectStream(Http3ClientStream stream) : IConnectStream
{
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => stream.ReadBodyAsync(buffer, cancellationToken);

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => stream.WriteAsync(data, cancellationToken);

    public ValueTask CompleteAsync(CancellationToken cancellationToken) => stream.CompleteAsync(null, cancellationToken);

    public void Abort(long errorCode) => stream.Abort(errorCode);

    public void StopReading(long errorCode) => stream.StopReading(errorCode);
}
