namespace Switchyard.Http3.Client;

/// <summary>The control data and header fields of a request to send (RFC 9114 §4.3.1).</summary>
public sealed class Http3RequestHead
{
    /// <summary>The <c>:method</c>, for example <c>GET</c> or <c>CONNECT</c>.</summary>
    public string Method { get; set; } = "GET";

    /// <summary>The <c>:scheme</c>; ignored for a plain CONNECT.</summary>
    public string Scheme { get; set; } = "https";

    /// <summary>The <c>:authority</c>, for example <c>example.com:443</c>.</summary>
    public required string Authority { get; set; }

    /// <summary>The <c>:path</c>; ignored for a plain CONNECT.</summary>
    public string Path { get; set; } = "/";

    /// <summary>The <c>:protocol</c> of an extended CONNECT (RFC 9220), for example <c>webtransport</c>; null otherwise.</summary>
    public string? Protocol { get; set; }

    /// <summary>Regular header fields (lowercase names).</summary>
    public IList<HeaderField> Headers { get; } = new List<HeaderField>();

    internal List<HeaderField> ToFieldSection()
    {
        var fields = new List<HeaderField>(Headers.Count + 5) { new(":method", Method) };
        if (Protocol is not null)
        {
            fields.Add(new(":protocol", Protocol));
        }

        if (Method != "CONNECT" || Protocol is not null)
        {
            fields.Add(new(":scheme", Scheme));
            fields.Add(new(":path", Path));
        }

        fields.Add(new(":authority", Authority));
        fields.AddRange(Headers);
        return fields;
    }
}

/// <summary>The status and header fields of a final response (RFC 9114 §4.3.2).</summary>
public sealed class Http3ResponseHead
{
    internal Http3ResponseHead(int statusCode, IReadOnlyList<HeaderField> headers)
    {
        StatusCode = statusCode;
        Headers = headers;
    }

    /// <summary>The <c>:status</c>.</summary>
    public int StatusCode { get; }

    /// <summary>The regular header fields.</summary>
    public IReadOnlyList<HeaderField> Headers { get; }

    /// <summary>The first value of header <paramref name="name"/>, or null.</summary>
    public string? GetHeader(string name)
    {
        foreach (HeaderField field in Headers)
        {
            if (field.Name == name)
            {
                return field.Value;
            }
        }

        return null;
    }
}

/// <summary>A whole response read into memory, as returned by <see cref="Http3ClientConnection.SendAsync"/>.</summary>
public sealed class Http3ResponseMessage
{
    internal Http3ResponseMessage(Http3ResponseHead head, byte[] body, IReadOnlyList<HeaderField>? trailers)
    {
        Head = head;
        Body = body;
        Trailers = trailers;
    }

    /// <summary>Status and headers.</summary>
    public Http3ResponseHead Head { get; }

    /// <summary>The status code.</summary>
    public int StatusCode => Head.StatusCode;

    /// <summary>The body bytes.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The trailers, or null.</summary>
    public IReadOnlyList<HeaderField>? Trailers { get; }
}
