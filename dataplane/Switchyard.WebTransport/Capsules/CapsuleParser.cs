using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Switchyard.Http3;
using Switchyard.Http3.Frames;

namespace Switchyard.WebTransport.Capsules;

/// <summary>
/// Capsules (RFC 9297 §3.2): <c>type (i) | length (i) | value</c>, carried in the DATA of a CONNECT stream.
/// </summary>
public static class CapsuleParser
{
    /// <summary>Reads a capsule header; false while incomplete.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> input, out long type, out long length, out int headerLength)
    {
        length = 0;
        headerLength = 0;
        if (!VariableLengthInteger.TryRead(input, out type, out int a) || !VariableLengthInteger.TryRead(input[a..], out length, out int b))
        {
            return false;
        }

        headerLength = a + b;
        return true;
    }

    /// <summary>
    /// Parses a CLOSE_WEBTRANSPORT_SESSION value: a 32-bit error code then a UTF-8 reason of at most 1024 bytes.
    /// </summary>
    /// <exception cref="Http3StreamException">H3_MESSAGE_ERROR for a value shorter than 4 bytes, a reason too long or not UTF-8 (draft-02 §5, RFC 9297 §3.3).</exception>
    public static (uint Code, string Reason) ParseClose(ReadOnlySpan<byte> value)
    {
        if (value.Length < 4)
        {
            throw new Http3StreamException(Http3ErrorCode.MessageError, "CLOSE_WEBTRANSPORT_SESSION shorter than its 32-bit error code (draft-ietf-webtrans-http3-02 §5).");
        }

        ReadOnlySpan<byte> reason = value[4..];
        if (reason.Length > WebTransportProtocol.MaxCloseReasonLength)
        {
            throw new Http3StreamException(Http3ErrorCode.MessageError, $"CLOSE_WEBTRANSPORT_SESSION reason of {reason.Length} bytes exceeds 1024 (draft-ietf-webtrans-http3-02 §5).");
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(reason);
        }
        catch (DecoderFallbackException)
        {
            throw new Http3StreamException(Http3ErrorCode.MessageError, "CLOSE_WEBTRANSPORT_SESSION reason is not UTF-8 (draft-ietf-webtrans-http3-02 §5).");
        }

        return (BinaryPrimitives.ReadUInt32BigEndian(value), text);
    }

    /// <summary>Writes a capsule.</summary>
    public static void WriteCapsule(IBufferWriter<byte> output, long type, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(output);
        VariableLengthInteger.Write(output, type);
        VariableLengthInteger.Write(output, value.Length);
        output.Write(value);
    }

    /// <summary>Writes CLOSE_WEBTRANSPORT_SESSION; a reason longer than 1024 bytes is cut at a character boundary.</summary>
    public static void WriteClose(IBufferWriter<byte> output, uint code, string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        byte[] reasonBytes = Encoding.UTF8.GetBytes(reason);
        if (reasonBytes.Length > WebTransportProtocol.MaxCloseReasonLength)
        {
            int cut = WebTransportProtocol.MaxCloseReasonLength;
            while (cut > 0 && (reasonBytes[cut] & 0xc0) == 0x80)
            {
                cut--;
            }

            reasonBytes = reasonBytes[..cut];
        }

        byte[] value = new byte[4 + reasonBytes.Length];
        BinaryPrimitives.WriteUInt32BigEndian(value, code);
        reasonBytes.CopyTo(value, 4);
        WriteCapsule(output, WebTransportProtocol.CloseSessionCapsule, value);
    }

    /// <summary>Writes DRAIN_WEBTRANSPORT_SESSION (empty value).</summary>
    public static void WriteDrain(IBufferWriter<byte> output) => WriteCapsule(output, WebTransportProtocol.DrainSessionCapsule, ReadOnlySpan<byte>.Empty);
}
