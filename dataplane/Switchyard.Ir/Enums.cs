namespace Switchyard.Ir;

/// <summary>Listener protocol.</summary>
public enum ListenerProtocol
{
    /// <summary>Cleartext HTTP/1.1 on TCP.</summary>
    Http,

    /// <summary>TLS on TCP (HTTP/1.1, HTTP/2) and QUIC on UDP (HTTP/3, WebTransport) on the same port.</summary>
    Https,
}

/// <summary>How a path is matched.</summary>
public enum PathMatchType
{
    /// <summary>The whole path equals the value.</summary>
    Exact,

    /// <summary>The path starts with the value, element-wise (<c>/foo</c> matches <c>/foo/bar</c>, not <c>/foobar</c>).</summary>
    PathPrefix,

    /// <summary>The path matches a .NET regular expression anchored at both ends.</summary>
    RegularExpression,
}

/// <summary>How a header or query parameter value is matched.</summary>
public enum StringMatchType
{
    /// <summary>Equal values.</summary>
    Exact,

    /// <summary>The value matches a .NET regular expression anchored at both ends.</summary>
    RegularExpression,
}

/// <summary>How a track id is matched.</summary>
public enum TrackIdMatchType
{
    /// <summary>Equal ids.</summary>
    Exact,

    /// <summary>The id starts with the value.</summary>
    Prefix,
}

/// <summary>How messages of a WebTransport rule reach the backend.</summary>
public enum DeliveryMode
{
    /// <summary>One HTTP POST per message.</summary>
    Message,

    /// <summary>One streaming HTTP request per WebTransport stream, whose body is the framed messages.</summary>
    Stream,
}

/// <summary>How a redirect or rewrite changes the path.</summary>
public enum PathModifierType
{
    /// <summary>Replace the whole path.</summary>
    ReplaceFullPath,

    /// <summary>Replace the part matched by the rule's PathPrefix match.</summary>
    ReplacePrefixMatch,
}

/// <summary>The application protocol a backend Service port speaks (its <c>appProtocol</c>, Gateway API GEP-1911).</summary>
public enum BackendProtocol
{
    /// <summary>HTTP/1.1 in cleartext (no appProtocol, or one Switchyard does not act on); WebSocket upgrades are tunnelled.</summary>
    Http1,

    /// <summary><c>kubernetes.io/h2c</c>: HTTP/2 over cleartext with prior knowledge (RFC 9113 §3.3).</summary>
    H2c,

    /// <summary><c>kubernetes.io/ws</c>: WebSocket over cleartext (RFC 6455); spoken to as <see cref="Http1"/> is, the declaration is kept for the IR's readers.</summary>
    WebSocket,
}

/// <summary>What an HTTPS port does with a client that presents no certificate or one that does not validate (Gateway API <c>FrontendValidationModeType</c>).</summary>
public enum FrontendValidationMode
{
    /// <summary>The TLS handshake fails unless the client presents a certificate that chains to a configured CA.</summary>
    AllowValidOnly,

    /// <summary>A certificate is asked for and checked, but the connection is accepted whatever the outcome (authorization is left to the backend).</summary>
    AllowInsecureFallback,
}
