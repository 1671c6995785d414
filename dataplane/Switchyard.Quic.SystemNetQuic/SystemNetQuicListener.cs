using System.Net;
using System.Runtime.Versioning;
using Switchyard.Transport;
using Net = System.Net.Quic;

namespace Switchyard.Quic.SystemNetQuic;

/// <summary><see cref="IQuicListener"/> over <c>System.Net.Quic.QuicListener</c>. Untested here (no libmsquic).</summary>
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("windows")]
[SupportedOSPlatform("macos")]
internal sealed class SystemNetQuicListener(Net.QuicListener listener) : IQuicListener
{
    public IPEndPoint LocalEndPoint => listener.LocalEndPoint;

    public async ValueTask<IQuicConnection> AcceptConnectionAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return new SystemNetQuicConnection(await listener.AcceptConnectionAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (Net.QuicException error) when (error.QuicError == Net.QuicError.OperationAborted)
        {
            throw new ObjectDisposedException(nameof(SystemNetQuicListener), error);
        }
        catch (Net.QuicException error)
        {
            throw QuicErrors.Map(error);
        }
    }

    public ValueTask DisposeAsync() => listener.DisposeAsync();
}
