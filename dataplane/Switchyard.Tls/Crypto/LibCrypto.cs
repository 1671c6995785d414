using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Switchyard.Tls.Crypto;

/// <summary>
/// The few OpenSSL 3 EVP calls X25519 needs (RFC 7748). .NET has no X25519, so it comes from the platform's libcrypto.
/// </summary>
internal static unsafe partial class LibCrypto
{
    private const string Library = "libcrypto.so.3";

    /// <summary>NID_X25519 / EVP_PKEY_X25519.</summary>
    public const int NidX25519 = 1034;

    [LibraryImport(Library)]
    internal static partial EvpPkeyCtxHandle EVP_PKEY_CTX_new_id(int id, IntPtr engine);

    [LibraryImport(Library)]
    internal static partial EvpPkeyCtxHandle EVP_PKEY_CTX_new(EvpPkeyHandle pkey, IntPtr engine);

    [LibraryImport(Library)]
    internal static partial void EVP_PKEY_CTX_free(IntPtr ctx);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_keygen_init(EvpPkeyCtxHandle ctx);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_keygen(EvpPkeyCtxHandle ctx, IntPtr* pkey);

    [LibraryImport(Library)]
    internal static partial void EVP_PKEY_free(IntPtr pkey);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_get_raw_public_key(EvpPkeyHandle pkey, byte* pub, nuint* length);

    [LibraryImport(Library)]
    internal static partial EvpPkeyHandle EVP_PKEY_new_raw_public_key(int type, IntPtr engine, byte* key, nuint length);

    [LibraryImport(Library)]
    internal static partial EvpPkeyHandle EVP_PKEY_new_raw_private_key(int type, IntPtr engine, byte* key, nuint length);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_derive_init(EvpPkeyCtxHandle ctx);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_derive_set_peer(EvpPkeyCtxHandle ctx, EvpPkeyHandle peer);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_derive(EvpPkeyCtxHandle ctx, byte* key, nuint* length);

    /// <summary>Clears this thread's OpenSSL error queue, which .NET's own crypto shares, after a failed call.</summary>
    [LibraryImport(Library)]
    internal static partial void ERR_clear_error();
}

/// <summary>Owns an <c>EVP_PKEY*</c>.</summary>
internal sealed class EvpPkeyHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public EvpPkeyHandle()
        : base(ownsHandle: true)
    {
    }

    internal EvpPkeyHandle(IntPtr handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle()
    {
        LibCrypto.EVP_PKEY_free(handle);
        return true;
    }
}

/// <summary>Owns an <c>EVP_PKEY_CTX*</c>.</summary>
internal sealed class EvpPkeyCtxHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public EvpPkeyCtxHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        LibCrypto.EVP_PKEY_CTX_free(handle);
        return true;
    }
}
