namespace Switchyard.WebTransport;

/// <summary>
/// Maps WebTransport application error codes (32-bit) to and from the HTTP/3 error space used on RESET_STREAM and
/// STOP_SENDING (draft-ietf-webtrans-http3-02 §4.3): code n becomes <c>first + n + floor(n / 0x1e)</c>, which steps
/// over the reserved GREASE codepoints <c>0x1f * N + 0x21</c>.
/// </summary>
public static class WebTransportErrorCodes
{
    /// <summary>The HTTP/3 code of WebTransport error 0.</summary>
    public const long First = 0x52e4a40fa8db;

    /// <summary>The HTTP/3 code of WebTransport error 0xffffffff.</summary>
    public const long Last = 0x52e5ac983162;

    /// <summary>The HTTP/3 error code carrying WebTransport error <paramref name="code"/>.</summary>
    public static long ToHttp3(uint code) => First + code + (code / 0x1e);

    /// <summary>
    /// Recovers the WebTransport error code from an HTTP/3 error code. False for codes outside the WebTransport range
    /// and for GREASE codepoints, which never carry one.
    /// </summary>
    public static bool TryFromHttp3(long http3Code, out uint code)
    {
        code = 0;
        if (http3Code < First || http3Code > Last || IsGrease(http3Code))
        {
            return false;
        }

        long shifted = http3Code - First;
        code = (uint)(shifted - (shifted / 0x1f));
        return true;
    }

    /// <summary>True for the reserved codepoints <c>0x1f * N + 0x21</c> (RFC 9114 §8.1).</summary>
    public static bool IsGrease(long http3Code) => http3Code >= 0x21 && (http3Code - 0x21) % 0x1f == 0;
}
