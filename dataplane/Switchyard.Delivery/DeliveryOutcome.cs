namespace Switchyard.Delivery;

/// <summary>
/// What became of a message. Expected failures are values, not exceptions; <see cref="StreamErrorCodes"/> is the one
/// place that maps them to the WebTransport stream error a client sees, and metrics label by <see cref="StreamErrorCodes.Label"/>.
/// </summary>
public enum DeliveryOutcome
{
    /// <summary>The backend answered 2xx: to the message's own POST (Message mode), or to the streaming request the
    /// message was flushed into, once that request's body ended (Stream mode; see <see cref="HttpStreamDeliverer"/>).</summary>
    Delivered,

    /// <summary>The header was malformed; the stream is reset.</summary>
    MalformedHeader,

    /// <summary><c>payload_len</c> was above the limit; the stream is reset.</summary>
    MessageTooLarge,

    /// <summary>No rule takes the message, or its rule has no ready endpoint.</summary>
    NoRoute,

    /// <summary>The backend could not be reached, timed out or answered 5xx/429 through every retry.</summary>
    BackendUnavailable,

    /// <summary>The backend answered a 4xx other than 408/429: retrying cannot help.</summary>
    BackendRejected,

    /// <summary>The gateway shed the stream: a connection, session or buffer limit was reached.</summary>
    Overloaded,
}

/// <summary>
/// The WebTransport application error codes Switchyard puts on RESET_STREAM / STOP_SENDING, as the page sees them in
/// <c>WebTransportError.streamErrorCode</c>. They are below 256 so that they survive clients that carry only 8 bits.
/// </summary>
public static class StreamErrorCodes
{
    /// <summary>A track header was malformed.</summary>
    public const byte MalformedHeader = 0x10;

    /// <summary>A message's <c>payload_len</c> was above the limit.</summary>
    public const byte MessageTooLarge = 0x11;

    /// <summary>No WebTransportRoute rule takes the message.</summary>
    public const byte NoRoute = 0x12;

    /// <summary>The backend stayed unreachable (or 5xx) through the bounded retries.</summary>
    public const byte BackendUnavailable = 0x13;

    /// <summary>The backend refused the message (4xx).</summary>
    public const byte BackendRejected = 0x14;

    /// <summary>The gateway is over a limit and shed the stream.</summary>
    public const byte Overloaded = 0x15;

    /// <summary>The code for a failed outcome.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="DeliveryOutcome.Delivered"/> has no error code.</exception>
    public static byte For(DeliveryOutcome outcome) => outcome switch
    {
        DeliveryOutcome.MalformedHeader => MalformedHeader,
        DeliveryOutcome.MessageTooLarge => MessageTooLarge,
        DeliveryOutcome.NoRoute => NoRoute,
        DeliveryOutcome.BackendUnavailable => BackendUnavailable,
        DeliveryOutcome.BackendRejected => BackendRejected,
        DeliveryOutcome.Overloaded => Overloaded,
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "A delivered message has no error code."),
    };

    /// <summary>The metric label of an outcome: delivered, failed, unrouted or malformed.</summary>
    public static string Label(DeliveryOutcome outcome) => outcome switch
    {
        DeliveryOutcome.Delivered => "delivered",
        DeliveryOutcome.MalformedHeader or DeliveryOutcome.MessageTooLarge => "malformed",
        DeliveryOutcome.NoRoute => "unrouted",
        _ => "failed",
    };
}
