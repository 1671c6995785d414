using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Switchyard.Proxy.Listeners;

/// <summary>
/// HTTP/2 with prior knowledge on a cleartext port that also serves HTTP/1.1 (RFC 9113 §3.3). Kestrel picks the
/// protocol of a cleartext connection from its endpoint alone (HTTP/1.1 when both are enabled), so this connection
/// middleware looks at the first bytes: a connection that opens with the HTTP/2 preface goes to an HTTP/2-only
/// pipeline, any other to the HTTP/1.1 one. Nothing is consumed; the chosen pipeline reads the bytes again.
/// </summary>
internal static class H2cPriorKnowledge
{
    /// <summary>The client connection preface (RFC 9113 §3.4).</summary>
    internal static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>The middleware: <paramref name="http2"/> gives the HTTP/2 pipeline (null until the server has started).</summary>
    /// <param name="http2">The HTTP/2-only pipeline, read per connection.</param>
    /// <param name="timeout">How long a silent client may take to send its first bytes (Kestrel's request headers timeout).</param>
    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware(Func<ConnectionDelegate?> http2, TimeSpan timeout) => next => async connection =>
    {
        var prefaced = await StartsWithPrefaceAsync(connection.Transport.Input, timeout, connection.ConnectionClosed).ConfigureAwait(false);
        if (prefaced is null)
        {
            // Nothing decisive arrived in time: the same fate Kestrel gives a client that sends no request headers.
            connection.Abort(new ConnectionAbortedException("No request before the request headers timeout."));
            return;
        }

        await ((prefaced.Value ? http2() : null) ?? next)(connection).ConfigureAwait(false);
    };

    /// <summary>
    /// Waits until the input either diverges from the preface (false), holds all of it (true) or ends (false);
    /// null when <paramref name="timeout"/> passes or the connection closes first. Consumes nothing.
    /// </summary>
    internal static async Task<bool?> StartsWithPrefaceAsync(PipeReader input, TimeSpan timeout, CancellationToken closed)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(closed);
        deadline.CancelAfter(timeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null;
            }

            var buffer = result.Buffer;
            var decided = TryDecide(buffer, out var prefaced);

            // Undecided: everything was examined, so the next read waits for more bytes.
            input.AdvanceTo(buffer.Start, decided ? buffer.Start : buffer.End);
            if (decided)
            {
                return prefaced;
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                return false;
            }
        }
    }

    /// <summary>Compares what has arrived with the preface; false when more bytes are needed to tell.</summary>
    internal static bool TryDecide(in ReadOnlySequence<byte> buffer, out bool prefaced)
    {
        var preface = Preface;
        Span<byte> head = stackalloc byte[preface.Length];
        var length = (int)Math.Min(buffer.Length, preface.Length);
        buffer.Slice(0, length).CopyTo(head);
        if (!head[..length].SequenceEqual(preface[..length]))
        {
            prefaced = false;
            return true;
        }

        prefaced = length == preface.Length;
        return prefaced;
    }
}
