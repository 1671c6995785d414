namespace Switchyard.Tls.Messages;

/// <summary>Handshake message types (RFC 8446 §4, §B.3).</summary>
internal enum HandshakeType : byte
{
    ClientHello = 1,
    ServerHello = 2,
    NewSessionTicket = 4,
    EndOfEarlyData = 5,
    EncryptedExtensions = 8,
    Certificate = 11,
    CertificateRequest = 13,
    CertificateVerify = 15,
    Finished = 20,
    KeyUpdate = 24,
    MessageHash = 254,
}

/// <summary>Extension types this stack reads or writes (RFC 8446 §4.2, RFC 7301, RFC 9001 §8.2).</summary>
internal enum ExtensionType : ushort
{
    ServerName = 0,
    SupportedGroups = 10,
    SignatureAlgorithms = 13,
    ApplicationLayerProtocolNegotiation = 16,
    PreSharedKey = 41,
    EarlyData = 42,
    SupportedVersions = 43,
    Cookie = 44,
    PskKeyExchangeModes = 45,
    CertificateAuthorities = 47,
    SignatureAlgorithmsCert = 50,
    KeyShare = 51,
    QuicTransportParameters = 0x39,
}

/// <summary>Named groups (RFC 8446 §4.2.7). Only X25519 and secp256r1 are implemented; the rest are recognised to be skipped.</summary>
internal enum NamedGroup : ushort
{
    Secp256r1 = 0x0017,
    Secp384r1 = 0x0018,
    X25519 = 0x001d,
    X25519MlKem768 = 0x11ec,
}

/// <summary>Signature schemes (RFC 8446 §4.2.3) that this stack signs or verifies.</summary>
internal enum SignatureScheme : ushort
{
    EcdsaSecp256r1Sha256 = 0x0403,
    EcdsaSecp384r1Sha384 = 0x0503,
    RsaPssRsaeSha256 = 0x0804,
    RsaPssRsaeSha384 = 0x0805,
    RsaPssRsaeSha512 = 0x0806,
}

/// <summary>Wire constants of TLS 1.3.</summary>
internal static class TlsConstants
{
    /// <summary>TLS 1.3 in supported_versions (RFC 8446 §4.2.1).</summary>
    public const ushort Tls13 = 0x0304;

    /// <summary>legacy_version in ClientHello and ServerHello (RFC 8446 §4.1.2).</summary>
    public const ushort LegacyVersion = 0x0303;

    /// <summary>The largest handshake message body this stack accepts; larger claims are rejected before buffering.</summary>
    public const int MaxHandshakeMessageLength = 64 * 1024;

    /// <summary>The ServerHello.random that marks a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).</summary>
    public static ReadOnlySpan<byte> HelloRetryRequestRandom =>
    [
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
    ];
}
