using System.Buffers.Binary;
using System.Security.Cryptography;
using Switchyard.Tls;

namespace Switchyard.Quic.Protection;

/// <summary>
/// Header protection (RFC 9001 §5.4). It does not change on key update (§6), so one instance serves every key phase.
/// </summary>
/// <remarks>
/// The AES mask is one ECB block per packet, sent and received. It goes through one <see cref="ICryptoTransform"/>
/// made at construction: <see cref="SymmetricAlgorithm.EncryptEcb(ReadOnlySpan{byte}, Span{byte}, PaddingMode)"/>
/// would build and free a native cipher context for every packet, which cost the send path more than the AEAD itself.
/// Like the connection that owns it, an instance is used by one thread at a time.
/// </remarks>
internal sealed class HeaderProtection : IDisposable
{
    private readonly Aes? _aes;
    private readonly ICryptoTransform? _ecb;
    private readonly byte[] _sample = new byte[16];
    private readonly byte[] _block = new byte[16];
    private readonly byte[]? _chachaKey;

    public HeaderProtection(TlsCipherSuite suite, ReadOnlySpan<byte> hpKey)
    {
        if (suite == TlsCipherSuite.ChaCha20Poly1305Sha256)
        {
            _chachaKey = hpKey.ToArray();
        }
        else
        {
            _aes = Aes.Create();
            _aes.Key = hpKey.ToArray();
            _aes.Mode = CipherMode.ECB;
            _aes.Padding = PaddingMode.None;
#pragma warning disable CA5358 // AES-ECB on one block is exactly what RFC 9001 §5.4.3 specifies for the header protection mask.
            _ecb = _aes.CreateEncryptor();
#pragma warning restore CA5358
        }
    }

    /// <summary>Computes the 5-byte mask from a 16-byte sample (RFC 9001 §5.4.3, §5.4.4).</summary>
    public void ComputeMask(ReadOnlySpan<byte> sample, Span<byte> mask)
    {
        if (_ecb is not null)
        {
            sample[..16].CopyTo(_sample);
            _ecb.TransformBlock(_sample, 0, 16, _block, 0);
            _block.AsSpan(0, 5).CopyTo(mask);
        }
        else
        {
            Span<byte> block = stackalloc byte[64];
            var counter = BinaryPrimitives.ReadUInt32LittleEndian(sample);
            ChaCha20Block.Compute(_chachaKey, counter, sample.Slice(4, 12), block);
            block[..5].CopyTo(mask);
        }
    }

    /// <summary>Protects the first byte and packet number of a packet whose payload is already sealed (RFC 9001 §5.4.1).</summary>
    public void Apply(Span<byte> packet, int packetNumberOffset, int packetNumberLength)
    {
        Span<byte> mask = stackalloc byte[5];
        ComputeMask(packet.Slice(packetNumberOffset + 4, 16), mask);
        packet[0] ^= (byte)(mask[0] & ((packet[0] & 0x80) != 0 ? 0x0f : 0x1f));
        for (var i = 0; i < packetNumberLength; i++)
        {
            packet[packetNumberOffset + i] ^= mask[1 + i];
        }
    }

    /// <summary>
    /// Removes header protection in place and returns the packet number length, or -1 when the packet is too short to
    /// sample (RFC 9001 §5.4.2): such a packet is dropped.
    /// </summary>
    public int Remove(Span<byte> packet, int packetNumberOffset)
    {
        if (packet.Length < packetNumberOffset + 4 + 16)
        {
            return -1;
        }

        Span<byte> mask = stackalloc byte[5];
        ComputeMask(packet.Slice(packetNumberOffset + 4, 16), mask);
        packet[0] ^= (byte)(mask[0] & ((packet[0] & 0x80) != 0 ? 0x0f : 0x1f));
        var length = (packet[0] & 0x03) + 1;
        for (var i = 0; i < length; i++)
        {
            packet[packetNumberOffset + i] ^= mask[1 + i];
        }

        return length;
    }

    public void Dispose()
    {
        _ecb?.Dispose();
        _aes?.Dispose();
    }
}

/// <summary>
/// The AEAD packet protection of one key phase in one direction (RFC 9001 §5.3), plus the secret it came from so the
/// next phase can be derived (§6).
/// </summary>
internal sealed class PacketProtection : IDisposable
{
    /// <summary>The AEAD tag length of every QUIC v1 cipher suite.</summary>
    public const int TagLength = 16;

    private readonly AesGcm? _gcm;
    private readonly ChaCha20Poly1305? _chacha;
    private readonly byte[] _iv;

    private PacketProtection(TlsCipherSuite suite, byte[] secret, HeaderProtection headerProtection)
    {
        Suite = suite;
        Secret = secret;
        HeaderProtection = headerProtection;
        var hash = HashFor(suite);
        var key = new byte[suite == TlsCipherSuite.Aes128GcmSha256 ? 16 : 32];
        _iv = new byte[12];
        Hkdf13.ExpandLabel(hash, secret, "quic key", default, key);
        Hkdf13.ExpandLabel(hash, secret, "quic iv", default, _iv);
        if (suite == TlsCipherSuite.ChaCha20Poly1305Sha256)
        {
            _chacha = new ChaCha20Poly1305(key);
        }
        else
        {
            _gcm = new AesGcm(key, TagLength);
        }
    }

    public TlsCipherSuite Suite { get; }

    public byte[] Secret { get; }

    public HeaderProtection HeaderProtection { get; }

    /// <summary>Derives keys, IV and header-protection key from a traffic secret (RFC 9001 §5.1).</summary>
    public static PacketProtection Create(TlsCipherSuite suite, ReadOnlySpan<byte> secret)
    {
        var hash = HashFor(suite);
        Span<byte> hp = stackalloc byte[suite == TlsCipherSuite.Aes128GcmSha256 ? 16 : 32];
        Hkdf13.ExpandLabel(hash, secret, "quic hp", default, hp);
        return new PacketProtection(suite, secret.ToArray(), new HeaderProtection(suite, hp));
    }

    /// <summary>The keys of the next key phase: secret' = HKDF-Expand-Label(secret, "quic ku") and the same HP key (RFC 9001 §6.1).</summary>
    public PacketProtection NextPhase()
    {
        var next = new byte[Secret.Length];
        Hkdf13.ExpandLabel(HashFor(Suite), Secret, "quic ku", default, next);
        return new PacketProtection(Suite, next, HeaderProtection);
    }

    public static HashAlgorithmName HashFor(TlsCipherSuite suite) =>
        suite == TlsCipherSuite.Aes256GcmSha384 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256;

    /// <summary>
    /// Seals in place: the header is <c>packet[..headerLength]</c> (used as AAD), the plaintext follows it, and the
    /// tag is written after the plaintext (RFC 9001 §5.3).
    /// </summary>
    public void Seal(Span<byte> packet, int headerLength, int plaintextLength, long packetNumber)
    {
        Span<byte> nonce = stackalloc byte[12];
        MakeNonce(packetNumber, nonce);
        var header = packet[..headerLength];
        var payload = packet.Slice(headerLength, plaintextLength);
        var tag = packet.Slice(headerLength + plaintextLength, TagLength);
        if (_gcm is not null)
        {
            _gcm.Encrypt(nonce, payload, payload, tag, header);
        }
        else
        {
            _chacha!.Encrypt(nonce, payload, payload, tag, header);
        }
    }

    /// <summary>Opens in place; false when authentication fails (the packet is then dropped, RFC 9001 §5.3).</summary>
    public bool TryOpen(Span<byte> packet, int headerLength, int ciphertextLength, long packetNumber)
    {
        if (ciphertextLength < TagLength)
        {
            return false;
        }

        Span<byte> nonce = stackalloc byte[12];
        MakeNonce(packetNumber, nonce);
        var header = packet[..headerLength];
        var payload = packet.Slice(headerLength, ciphertextLength - TagLength);
        var tag = packet.Slice(headerLength + ciphertextLength - TagLength, TagLength);
        try
        {
            if (_gcm is not null)
            {
                _gcm.Decrypt(nonce, payload, tag, payload, header);
            }
            else
            {
                _chacha!.Decrypt(nonce, payload, tag, payload, header);
            }

            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    private void MakeNonce(long packetNumber, Span<byte> nonce)
    {
        _iv.CopyTo(nonce);
        Span<byte> pn = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(pn, packetNumber);
        for (var i = 0; i < 8; i++)
        {
            nonce[4 + i] ^= pn[i];
        }
    }

    /// <summary>Disposes the AEAD; header protection is shared across phases and disposed by its owner.</summary>
    public void Dispose()
    {
        _gcm?.Dispose();
        _chacha?.Dispose();
    }
}

/// <summary>Initial secrets (RFC 9001 §5.2) and the Retry integrity tag (RFC 9001 §5.8).</summary>
internal static class InitialProtection
{
    private static readonly byte[] InitialSaltV1 = Convert.FromHexString("38762cf7f55934b34d179ae6a4c80cadccbb7f0a");
    private static readonly byte[] RetryKeyV1 = Convert.FromHexString("be0c690b9f66575a1d766b54e368c84e");
    private static readonly byte[] RetryNonceV1 = Convert.FromHexString("461599d35d632bf2239825bb");

    /// <summary>Creates the client and server Initial protections from the client's first destination connection ID.</summary>
    public static (PacketProtection Client, PacketProtection Server) Create(ReadOnlySpan<byte> clientDestinationCid)
    {
        Span<byte> initialSecret = stackalloc byte[32];
        HKDF.Extract(HashAlgorithmName.SHA256, clientDestinationCid, InitialSaltV1, initialSecret);
        Span<byte> client = stackalloc byte[32];
        Span<byte> server = stackalloc byte[32];
        Hkdf13.ExpandLabel(HashAlgorithmName.SHA256, initialSecret, "client in", default, client);
        Hkdf13.ExpandLabel(HashAlgorithmName.SHA256, initialSecret, "server in", default, server);
        return (PacketProtection.Create(TlsCipherSuite.Aes128GcmSha256, client), PacketProtection.Create(TlsCipherSuite.Aes128GcmSha256, server));
    }

    /// <summary>
    /// Computes the Retry integrity tag over the Retry pseudo-packet: ODCID length, ODCID, then the Retry packet
    /// without its tag (RFC 9001 §5.8).
    /// </summary>
    public static void ComputeRetryTag(ReadOnlySpan<byte> originalDestinationCid, ReadOnlySpan<byte> retryWithoutTag, Span<byte> tag)
    {
        var pseudoLength = 1 + originalDestinationCid.Length + retryWithoutTag.Length;
        var pseudo = pseudoLength <= 512 ? stackalloc byte[pseudoLength] : new byte[pseudoLength];
        pseudo[0] = (byte)originalDestinationCid.Length;
        originalDestinationCid.CopyTo(pseudo[1..]);
        retryWithoutTag.CopyTo(pseudo[(1 + originalDestinationCid.Length)..]);
        using var gcm = new AesGcm(RetryKeyV1, PacketProtection.TagLength);
        gcm.Encrypt(RetryNonceV1, ReadOnlySpan<byte>.Empty, Span<byte>.Empty, tag[..PacketProtection.TagLength], pseudo);
    }

    /// <summary>True when the Retry packet's last 16 bytes are the right integrity tag (RFC 9001 §5.8).</summary>
    public static bool VerifyRetry(ReadOnlySpan<byte> originalDestinationCid, ReadOnlySpan<byte> retryPacket)
    {
        if (retryPacket.Length < PacketProtection.TagLength)
        {
            return false;
        }

        Span<byte> tag = stackalloc byte[PacketProtection.TagLength];
        ComputeRetryTag(originalDestinationCid, retryPacket[..^PacketProtection.TagLength], tag);
        return CryptographicOperations.FixedTimeEquals(tag, retryPacket[^PacketProtection.TagLength..]);
    }
}
