using System.Runtime.Versioning;
using Switchyard.Transport;
using Net = System.Net.Quic;

namespace Switchyard.Quic.SystemNetQuic;

/// <summary>Maps <c>System.Net.Quic</c> failures onto the seam's <see cref="QuicException"/>, in one place.</summary>
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("windows")]
[SupportedOSPlatform("macos")]
internal static class QuicErrors
{
    public static QuicException Map(Net.QuicException error) => new(Map(error.QuicError), error.ApplicationErrorCode, error.TransportErrorCode, error.Message, error);

    /// <summary>
    /// The seam's <see cref="QuicError"/> mirrors <c>System.Net.Quic.QuicError</c>; codes with no counterpart
    /// (address in use, host unreachable, alpn, callback errors) become <see cref="QuicError.TransportError"/>, and
    /// the original exception stays as the inner exception.
    /// </summary>
    public static QuicError Map(Net.QuicError error) => error switch
    {
        Net.QuicError.ConnectionAborted => QuicError.ConnectionAborted,
        Net.QuicError.StreamAborted => QuicError.StreamAborted,
        Net.QuicError.ConnectionIdle => QuicError.ConnectionIdle,
        Net.QuicError.ConnectionTimeout => QuicError.ConnectionTimeout,
        Net.QuicError.ConnectionRefused => QuicError.ConnectionRefused,
        Net.QuicError.VersionNegotiationError => QuicError.VersionNegotiationError,
        Net.QuicError.OperationAborted => QuicError.OperationAborted,
        _ => QuicError.TransportError,
    };
}
