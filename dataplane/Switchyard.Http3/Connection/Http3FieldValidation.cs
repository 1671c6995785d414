using Switchyard.Http3.Frames;

namespace Switchyard.Http3.Connection;

/// <summary>The checks of RFC 9114 §4.1 – §4.4 on frame sequences and field sections; malformed messages are stream errors.</summary>
internal static class Http3FieldValidation
{
    /// <summary>
    /// Throws for frames that may not appear on a request stream (RFC 9114 §7.2): control-stream frames and HTTP/2
    /// types are H3_FRAME_UNEXPECTED, PUSH_PROMISE toward a server too, and toward our client H3_ID_ERROR because we
    /// never send MAX_PUSH_ID; DATA or HEADERS after trailers are H3_FRAME_UNEXPECTED (§4.1).
    /// </summary>
    public static void ThrowIfUnexpectedOnRequestStream(long type, bool isServer, bool afterTrailers)
    {
        switch (type)
        {
            case (long)Http3FrameType.Settings:
            case (long)Http3FrameType.GoAway:
            case (long)Http3FrameType.MaxPushId:
            case (long)Http3FrameType.CancelPush:
                throw new Http3ConnectionException(Http3ErrorCode.FrameUnexpected, $"Frame type 0x{type:x} is only allowed on the control stream (RFC 9114 §7.2).");
            case (long)Http3FrameType.PushPromise when isServer:
                throw new Http3ConnectionException(Http3ErrorCode.FrameUnexpected, "A client sent PUSH_PROMISE (RFC 9114 §7.2.5).");
            case (long)Http3FrameType.PushPromise:
                throw new Http3ConnectionException(Http3ErrorCode.IdError, "PUSH_PROMISE received, but no MAX_PUSH_ID was sent (RFC 9114 §4.6, §7.2.5).");
            case (long)Http3FrameType.Data:
            case (long)Http3FrameType.Headers:
                throw new Http3ConnectionException(Http3ErrorCode.FrameUnexpected, afterTrailers
                    ? $"Frame type 0x{type:x} after the trailer section (RFC 9114 §4.1)."
                    : $"Frame type 0x{type:x} before the header section (RFC 9114 §4.1).");
            default:
                if (Http3FrameReader.IsReservedHttp2FrameType(type))
                {
                    throw new Http3ConnectionException(Http3ErrorCode.FrameUnexpected, $"Frame type 0x{type:x} is reserved from HTTP/2 (RFC 9114 §7.2.8).");
                }

                break;
        }
    }

    /// <summary>True for a frame type HTTP/3 interprets on a request stream (so it is never an extension signal).</summary>
    public static bool IsHttp3FrameType(long type) =>
        type is (long)Http3FrameType.Data or (long)Http3FrameType.Headers or (long)Http3FrameType.Settings or (long)Http3FrameType.GoAway
            or (long)Http3FrameType.MaxPushId or (long)Http3FrameType.CancelPush or (long)Http3FrameType.PushPromise
        || Http3FrameReader.IsReservedHttp2FrameType(type);

    /// <summary>Checks a regular field line (RFC 9114 §4.2): lowercase token name, no connection-specific fields, safe value.</summary>
    public static void ValidateRegularField(HeaderField field)
    {
        string name = field.Name;
        if (name.Length == 0)
        {
            throw Malformed("an empty field name (RFC 9114 §4.2)");
        }

        foreach (char c in name)
        {
            if (c is >= 'A' and <= 'Z')
            {
                throw Malformed($"field name '{name}' has uppercase characters (RFC 9114 §4.2)");
            }

            if (c <= 0x20 || c >= 0x7f || c == ':')
            {
                throw Malformed($"field name '{name}' has a character outside token (RFC 9114 §4.2, RFC 9110 §5.1)");
            }
        }

        if (name is "connection" or "keep-alive" or "proxy-connection" or "transfer-encoding" or "upgrade")
        {
            throw Malformed($"connection-specific field '{name}' (RFC 9114 §4.2)");
        }

        if (name == "te" && field.Value != "trailers")
        {
            throw Malformed("te with a value other than 'trailers' (RFC 9114 §4.2)");
        }

        foreach (char c in field.Value)
        {
            if (c is '\0' or '\r' or '\n')
            {
                throw Malformed($"field '{name}' has NUL, CR or LF in its value (RFC 9114 §4.2, RFC 9110 §5.5)");
            }
        }
    }

    /// <summary>Checks a trailer section: no pseudo-header fields (RFC 9114 §4.3).</summary>
    public static void ValidateTrailers(List<HeaderField> trailers)
    {
        foreach (HeaderField field in trailers)
        {
            if (field.Name.StartsWith(':'))
            {
                throw Malformed($"pseudo-header '{field.Name}' in a trailer section (RFC 9114 §4.3)");
            }

            ValidateRegularField(field);
        }
    }

    public static Http3StreamException Malformed(string what) => new(Http3ErrorCode.MessageError, $"Malformed message: {what}.");
}
