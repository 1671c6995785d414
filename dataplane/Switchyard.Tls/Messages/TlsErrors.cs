namespace Switchyard.Tls.Messages;

/// <summary>Builds the <see cref="TlsAlertException"/>s the handshake raises, so each call site names its alert once.</summary>
internal static class TlsErrors
{
    public static TlsAlertException Decode(string message) => new(TlsAlert.DecodeError, message);

    public static TlsAlertException Unexpected(string message) => new(TlsAlert.UnexpectedMessage, message);

    public static TlsAlertException Illegal(string message) => new(TlsAlert.IllegalParameter, message);

    public static TlsAlertException Failure(string message) => new(TlsAlert.HandshakeFailure, message);

    public static TlsAlertException Missing(string message) => new(TlsAlert.MissingExtension, message);

    public static TlsAlertException Unsupported(string message) => new(TlsAlert.UnsupportedExtension, message);
}
