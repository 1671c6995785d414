using System.Security.Cryptography;
using Switchyard.Tls.Messages;

namespace Switchyard.Tls.Crypto;

/// <summary>An ephemeral (EC)DHE key pair for one named group (RFC 8446 §4.2.8).</summary>
internal abstract class KeyShare : IDisposable
{
    protected KeyShare(NamedGroup group) => Group = group;

    public NamedGroup Group { get; }

    /// <summary>The key_exchange bytes to send (RFC 8446 §4.2.8.1, §4.2.8.2).</summary>
    public abstract ReadOnlySpan<byte> PublicKey { get; }

    /// <summary>True for the groups this stack can use here: X25519 needs libcrypto.so.3, secp256r1 always works.</summary>
    public static bool IsSupported(NamedGroup group) =>
        group == NamedGroup.Secp256r1 || (group == NamedGroup.X25519 && X25519KeyShare.IsAvailable);

    public static KeyShare Create(NamedGroup group) => group switch
    {
        NamedGroup.X25519 => X25519KeyShare.Generate(),
        NamedGroup.Secp256r1 => new P256KeyShare(),
        _ => throw new ArgumentOutOfRangeException(nameof(group), group, "Unsupported named group."),
    };

    /// <summary>Computes the shared secret with the peer's key_exchange bytes.</summary>
    /// <exception cref="TlsAlertException">illegal_parameter when the peer's share is malformed or degenerate.</exception>
    public abstract byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey);

    public abstract void Dispose();
}

/// <summary>X25519 (RFC 7748) through OpenSSL's EVP interface.</summary>
internal sealed unsafe class X25519KeyShare : KeyShare
{
    private const int KeyLength = 32;
    private static readonly Lazy<bool> s_available = new(Probe);
    private readonly EvpPkeyHandle _key;
    private readonly byte[] _publicKey;

    private X25519KeyShare(EvpPkeyHandle key)
        : base(NamedGroup.X25519)
    {
        _key = key;
        _publicKey = new byte[KeyLength];
        nuint length = KeyLength;
        fixed (byte* p = _publicKey)
        {
            if (LibCrypto.EVP_PKEY_get_raw_public_key(_key, p, &length) != 1 || length != KeyLength)
            {
                LibCrypto.ERR_clear_error();
                _key.Dispose();
                throw new CryptographicException("EVP_PKEY_get_raw_public_key failed for X25519.");
            }
        }
    }

    public override ReadOnlySpan<byte> PublicKey => _publicKey;

    /// <summary>Whether the platform's libcrypto (OpenSSL 3) can be loaded; without it X25519 is not offered or chosen.</summary>
    public static bool IsAvailable => s_available.Value;

    public static X25519KeyShare Generate()
    {
        using var ctx = LibCrypto.EVP_PKEY_CTX_new_id(LibCrypto.NidX25519, IntPtr.Zero);
        if (ctx.IsInvalid || LibCrypto.EVP_PKEY_keygen_init(ctx) != 1)
        {
            LibCrypto.ERR_clear_error();
            throw new CryptographicException("EVP_PKEY_keygen_init failed for X25519.");
        }

        var raw = IntPtr.Zero;
        if (LibCrypto.EVP_PKEY_keygen(ctx, &raw) != 1 || raw == IntPtr.Zero)
        {
            LibCrypto.ERR_clear_error();
            throw new CryptographicException("EVP_PKEY_keygen failed for X25519.");
        }

        return new X25519KeyShare(new EvpPkeyHandle(raw));
    }

    /// <summary>Builds a key pair from a known private key; for test vectors (RFC 8448).</summary>
    public static X25519KeyShare FromPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        fixed (byte* p = privateKey)
        {
            var key = LibCrypto.EVP_PKEY_new_raw_private_key(LibCrypto.NidX25519, IntPtr.Zero, p, (nuint)privateKey.Length);
            if (key.IsInvalid)
            {
                LibCrypto.ERR_clear_error();
                key.Dispose();
                throw new CryptographicException("EVP_PKEY_new_raw_private_key failed for X25519.");
            }

            return new X25519KeyShare(key);
        }
    }

    public override byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey)
    {
        if (peerPublicKey.Length != KeyLength)
        {
            throw TlsErrors.Illegal($"X25519 key_exchange is {peerPublicKey.Length} bytes, not 32 (RFC 8446 §4.2.8.2)");
        }

        EvpPkeyHandle peer;
        fixed (byte* p = peerPublicKey)
        {
            peer = LibCrypto.EVP_PKEY_new_raw_public_key(LibCrypto.NidX25519, IntPtr.Zero, p, KeyLength);
        }

        using (peer)
        {
            if (peer.IsInvalid)
            {
                LibCrypto.ERR_clear_error();
                throw TlsErrors.Illegal("X25519 key_exchange was refused by libcrypto (RFC 8446 §4.2.8.2)");
            }

            using var ctx = LibCrypto.EVP_PKEY_CTX_new(_key, IntPtr.Zero);
            if (ctx.IsInvalid || LibCrypto.EVP_PKEY_derive_init(ctx) != 1)
            {
                LibCrypto.ERR_clear_error();
                throw new CryptographicException("EVP_PKEY_derive_init failed for X25519.");
            }

            if (LibCrypto.EVP_PKEY_derive_set_peer(ctx, peer) != 1)
            {
                LibCrypto.ERR_clear_error();
                throw TlsErrors.Illegal("X25519 peer key was refused (RFC 8446 §4.2.8.2)");
            }

            var secret = new byte[KeyLength];
            nuint length = KeyLength;
            int ok;
            fixed (byte* s = secret)
            {
                ok = LibCrypto.EVP_PKEY_derive(ctx, s, &length);
            }

            // RFC 8446 §7.4.2: an all-zero X25519 result means a small-order peer point; abort. OpenSSL refuses it too.
            if (ok != 1 || length != KeyLength || !secret.AsSpan().ContainsAnyExcept((byte)0))
            {
                LibCrypto.ERR_clear_error();
                throw TlsErrors.Illegal("X25519 shared secret is invalid (all zero or derive failed) (RFC 8446 §7.4.2)");
            }

            return secret;
        }
    }

    public override void Dispose() => _key.Dispose();

    private static bool Probe()
    {
        try
        {
            using var a = Generate();
            using var b = Generate();
            return a.DeriveSharedSecret(b.PublicKey).AsSpan().SequenceEqual(b.DeriveSharedSecret(a.PublicKey));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or CryptographicException or TlsAlertException)
        {
            return false;
        }
    }
}

/// <summary>secp256r1 ECDHE through .NET (RFC 8446 §4.2.8.2, §7.4.2): uncompressed points, X coordinate as secret.</summary>
internal sealed class P256KeyShare : KeyShare
{
    private const int CoordinateLength = 32;
    private readonly ECDiffieHellman _key;
    private readonly byte[] _publicKey;

    public P256KeyShare()
        : base(NamedGroup.Secp256r1)
    {
        _key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var q = _key.ExportParameters(includePrivateParameters: false).Q;
        _publicKey = new byte[1 + (2 * CoordinateLength)];
        _publicKey[0] = 0x04;
        q.X.AsSpan().CopyTo(_publicKey.AsSpan(1 + CoordinateLength - q.X!.Length));
        q.Y.AsSpan().CopyTo(_publicKey.AsSpan(1 + (2 * CoordinateLength) - q.Y!.Length));
    }

    public override ReadOnlySpan<byte> PublicKey => _publicKey;

    public override byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey)
    {
        // RFC 8446 §4.2.8.2: only the uncompressed form (legacy_form 4) is allowed in TLS 1.3.
        if (peerPublicKey.Length != 1 + (2 * CoordinateLength) || peerPublicKey[0] != 0x04)
        {
            throw TlsErrors.Illegal("secp256r1 key_exchange must be a 65-byte uncompressed point (RFC 8446 §4.2.8.2)");
        }

        try
        {
            var parameters = new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint
                {
                    X = peerPublicKey.Slice(1, CoordinateLength).ToArray(),
                    Y = peerPublicKey.Slice(1 + CoordinateLength, CoordinateLength).ToArray(),
                },
            };
            using var peer = ECDiffieHellman.Create(parameters);
            return _key.DeriveRawSecretAgreement(peer.PublicKey);
        }
        catch (CryptographicException e)
        {
            // Import validates that the point lies on the curve (RFC 8446 §4.2.8.2 requires the check).
            throw new TlsAlertException(TlsAlert.IllegalParameter, "secp256r1 key_exchange is not a valid point (RFC 8446 §4.2.8.2)", e);
        }
    }

    public override void Dispose() => _key.Dispose();
}
