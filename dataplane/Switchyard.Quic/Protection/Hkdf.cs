using System.Security.Cryptography;
using System.Text;

namespace Switchyard.Quic.Protection;

/// <summary>HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1), the one QUIC's key derivation uses (RFC 9001 §5.1).</summary>
internal static class Hkdf13
{
    /// <summary>HKDF-Expand-Label(secret, "tls13 " + label, context, output.Length).</summary>
    public static void ExpandLabel(HashAlgorithmName hash, ReadOnlySpan<byte> secret, string label, ReadOnlySpan<byte> context, Span<byte> output)
    {
        // struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; } HkdfLabel;
        Span<byte> info = stackalloc byte[2 + 1 + 6 + 64 + 1 + 64];
        var labelLength = 6 + Encoding.ASCII.GetByteCount(label);
        info[0] = (byte)(output.Length >> 8);
        info[1] = (byte)output.Length;
        info[2] = (byte)labelLength;
        "tls13 "u8.CopyTo(info[3..]);
        Encoding.ASCII.GetBytes(label, info[9..]);
        var position = 3 + labelLength;
        info[position++] = (byte)context.Length;
        context.CopyTo(info[position..]);
        position += context.Length;
        HKDF.Expand(hash, secret, output, info[..position]);
    }
}
