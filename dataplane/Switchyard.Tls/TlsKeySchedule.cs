using System.Security.Cryptography;
using System.Text;

namespace Switchyard.Tls;

/// <summary>The TLS 1.3 key schedule (RFC 8446 §7.1) over <see cref="HKDF"/>.</summary>
public static class TlsKeySchedule
{
    private const int MaxLabelLength = 255;

    /// <summary>
    /// HKDF-Expand-Label (RFC 8446 §7.1): expands <paramref name="secret"/> into <paramref name="output"/> with
    /// <c>HkdfLabel { uint16 length; opaque label&lt;7..255&gt; = "tls13 " + label; opaque context&lt;0..255&gt; }</c>.
    /// QUIC uses it for "quic key", "quic iv", "quic hp" and "quic ku" (RFC 9001 §5.1, §6.1).
    /// </summary>
    /// <param name="hash">The cipher suite's hash.</param>
    /// <param name="secret">The pseudorandom key, at least the hash length.</param>
    /// <param name="label">The label without the "tls13 " prefix, which is added here.</param>
    /// <param name="context">The context (a transcript hash, or empty).</param>
    /// <param name="output">Receives <c>output.Length</c> bytes.</param>
    /// <exception cref="ArgumentException">The label or context is longer than 255 bytes, or the output longer than 65535.</exception>
    public static void HkdfExpandLabel(HashAlgorithmName hash, ReadOnlySpan<byte> secret, string label, ReadOnlySpan<byte> context, Span<byte> output)
    {
        ArgumentNullException.ThrowIfNull(label);
        const string prefix = "tls13 ";
        var labelLength = prefix.Length + Encoding.ASCII.GetByteCount(label);
        if (labelLength > MaxLabelLength)
        {
            throw new ArgumentException("The label is longer than 249 bytes.", nameof(label));
        }

        if (context.Length > MaxLabelLength)
        {
            throw new ArgumentException("The context is longer than 255 bytes.", nameof(context));
        }

        if (output.Length > ushort.MaxValue)
        {
            throw new ArgumentException("The output is longer than 65535 bytes.", nameof(output));
        }

        Span<byte> info = stackalloc byte[2 + 1 + MaxLabelLength + 1 + MaxLabelLength];
        info[0] = (byte)(output.Length >> 8);
        info[1] = (byte)output.Length;
        info[2] = (byte)labelLength;
        var offset = 3;
        offset += Encoding.ASCII.GetBytes(prefix, info[offset..]);
        offset += Encoding.ASCII.GetBytes(label, info[offset..]);
        info[offset++] = (byte)context.Length;
        context.CopyTo(info[offset..]);
        offset += context.Length;
        HKDF.Expand(hash, secret, output, info[..offset]);
    }

    /// <summary>The hash a TLS 1.3 cipher suite uses for HKDF and the transcript (RFC 8446 §B.4).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The cipher suite is not one of <see cref="TlsCipherSuite"/>'s values.</exception>
    public static HashAlgorithmName GetHashAlgorithm(TlsCipherSuite cipherSuite) => cipherSuite switch
    {
        TlsCipherSuite.Aes128GcmSha256 or TlsCipherSuite.ChaCha20Poly1305Sha256 => HashAlgorithmName.SHA256,
        TlsCipherSuite.Aes256GcmSha384 => HashAlgorithmName.SHA384,
        _ => throw new ArgumentOutOfRangeException(nameof(cipherSuite), cipherSuite, "Not a TLS 1.3 cipher suite."),
    };

    internal static int HashLength(HashAlgorithmName hash) => hash == HashAlgorithmName.SHA384 ? 48 : 32;

    /// <summary>HKDF-Extract (RFC 5869 §2.2); a missing input is Hash.length zero bytes (RFC 8446 §7.1).</summary>
    internal static byte[] Extract(HashAlgorithmName hash, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> ikm)
    {
        var prk = new byte[HashLength(hash)];
        HKDF.Extract(hash, ikm, salt, prk);
        return prk;
    }

    /// <summary>Derive-Secret(Secret, Label, Messages) given Transcript-Hash(Messages) (RFC 8446 §7.1).</summary>
    internal static byte[] DeriveSecret(HashAlgorithmName hash, ReadOnlySpan<byte> secret, string label, ReadOnlySpan<byte> transcriptHash)
    {
        var output = new byte[HashLength(hash)];
        HkdfExpandLabel(hash, secret, label, transcriptHash, output);
        return output;
    }

    /// <summary>Hash("") for the "derived" steps of the schedule.</summary>
    internal static byte[] EmptyHash(HashAlgorithmName hash) =>
        hash == HashAlgorithmName.SHA384 ? SHA384.HashData(ReadOnlySpan<byte>.Empty) : SHA256.HashData(ReadOnlySpan<byte>.Empty);

    /// <summary>Early secret with no PSK: HKDF-Extract(0, 0) (RFC 8446 §7.1).</summary>
    internal static byte[] EarlySecret(HashAlgorithmName hash)
    {
        var zeros = new byte[HashLength(hash)];
        return Extract(hash, zeros, zeros);
    }

    /// <summary>Handshake secret: HKDF-Extract(Derive-Secret(early, "derived", ""), (EC)DHE) (RFC 8446 §7.1).</summary>
    internal static byte[] HandshakeSecret(HashAlgorithmName hash, ReadOnlySpan<byte> sharedSecret)
    {
        var derived = DeriveSecret(hash, EarlySecret(hash), "derived", EmptyHash(hash));
        return Extract(hash, derived, sharedSecret);
    }

    /// <summary>Master secret: HKDF-Extract(Derive-Secret(handshake, "derived", ""), 0) (RFC 8446 §7.1).</summary>
    internal static byte[] MasterSecret(HashAlgorithmName hash, ReadOnlySpan<byte> handshakeSecret)
    {
        var derived = DeriveSecret(hash, handshakeSecret, "derived", EmptyHash(hash));
        return Extract(hash, derived, new byte[HashLength(hash)]);
    }

    /// <summary>Finished.verify_data = HMAC(finished_key, Transcript-Hash) (RFC 8446 §4.4.4).</summary>
    internal static byte[] FinishedVerifyData(HashAlgorithmName hash, ReadOnlySpan<byte> baseKey, ReadOnlySpan<byte> transcriptHash)
    {
        Span<byte> finishedKey = stackalloc byte[HashLength(hash)];
        HkdfExpandLabel(hash, baseKey, "finished", ReadOnlySpan<byte>.Empty, finishedKey);
        var result = hash == HashAlgorithmName.SHA384
            ? HMACSHA384.HashData(finishedKey, transcriptHash)
            : HMACSHA256.HashData(finishedKey, transcriptHash);
        CryptographicOperations.ZeroMemory(finishedKey);
        return result;
    }
}
