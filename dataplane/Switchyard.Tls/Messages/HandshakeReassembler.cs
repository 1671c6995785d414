namespace Switchyard.Tls.Messages;

/// <summary>
/// Cuts the CRYPTO stream of one encryption level into handshake messages (RFC 8446 §4, RFC 9001 §4.1.3).
/// A message may arrive over several calls and one call may hold several messages.
/// </summary>
/// <remarks>
/// Memory is bounded by construction: a header claiming more than <see cref="TlsConstants.MaxHandshakeMessageLength"/>
/// is rejected as soon as its four bytes are in, and the buffer only grows as the message's bytes actually arrive.
/// </remarks>
internal sealed class HandshakeReassembler
{
    private const int HeaderLength = 4;
    private byte[] _buffer = new byte[256];
    private int _count;

    /// <summary>True when part of a message is buffered.</summary>
    public bool HasPartialMessage => _count > 0;

    /// <summary>
    /// Consumes bytes from <paramref name="input"/> until one whole message is buffered or the input is exhausted.
    /// </summary>
    /// <param name="input">The unread input; advanced past what was consumed.</param>
    /// <param name="message">The whole message, header included; valid until the next call.</param>
    /// <returns>True when <paramref name="message"/> holds a whole message.</returns>
    public bool TryTake(ref ReadOnlySpan<byte> input, out ReadOnlySpan<byte> message)
    {
        message = default;
        if (_count < HeaderLength)
        {
            var take = Math.Min(HeaderLength - _count, input.Length);
            Append(input[..take]);
            input = input[take..];
            if (_count < HeaderLength)
            {
                return false;
            }
        }

        var bodyLength = (_buffer[1] << 16) | (_buffer[2] << 8) | _buffer[3];
        if (bodyLength > TlsConstants.MaxHandshakeMessageLength)
        {
            throw TlsErrors.Decode(
                $"Handshake message type {_buffer[0]} claims {bodyLength} bytes, more than the {TlsConstants.MaxHandshakeMessageLength} accepted (RFC 8446 §4)");
        }

        var missing = HeaderLength + bodyLength - _count;
        var chunk = Math.Min(missing, input.Length);
        Append(input[..chunk]);
        input = input[chunk..];
        if (chunk < missing)
        {
            return false;
        }

        message = _buffer.AsSpan(0, _count);
        _count = 0;
        return true;
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_count + data.Length > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _count + data.Length));
        }

        data.CopyTo(_buffer.AsSpan(_count));
        _count += data.Length;
    }
}
