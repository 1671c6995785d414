using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Conformance.Http;

/// <summary>A request the suite sends through a Gateway (upstream's <c>http.Request</c>).</summary>
internal sealed record Request
{
    /// <summary>Host header; empty sends the Gateway address.</summary>
    public string Host { get; init; } = "";

    public string Method { get; init; } = "GET";

    /// <summary>Path and query, sent as written.</summary>
    public string Path { get; init; } = "/";

    /// <summary>http or https.</summary>
    public string Scheme { get; init; } = "http";

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>TLS server name (SNI) when it must differ from <see cref="Host"/>; only for https.</summary>
    public string? ServerName { get; init; }

    /// <summary>When true a 3xx answer is compared as a redirect rather than followed (the client never follows).</summary>
    public bool UnfollowRedirect { get; init; }

    /// <summary>Upstream's <c>Protocol</c>: null for the client's default, <see cref="H2cPriorKnowledge"/> for HTTP/2 over cleartext.</summary>
    public string? Protocol { get; init; }

    /// <summary>Upstream's <c>roundtripper.H2CPriorKnowledgeProtocol</c>.</summary>
    public const string H2cPriorKnowledge = "H2C_PRIOR_KNOWLEDGE";

    /// <summary>
    /// A client certificate (with its key) to present when the Gateway asks for one (upstream's
    /// <c>ClientCertificate</c>); only for https. The answer must then show the Gateway asked for it.
    /// </summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>
    /// The certificate the Gateway's must chain to and match the server name against (upstream's
    /// <c>ServerCertificate</c>); null accepts any, as the other tests do with the suite's self-signed certificates.
    /// </summary>
    public X509Certificate2? ServerCertificate { get; init; }
}

/// <summary>What the echo backend must have received (upstream's <c>http.ExpectedRequest</c>).</summary>
internal sealed record ExpectedRequest
{
    public string? Host { get; init; }

    public string? Method { get; init; }

    public string? Path { get; init; }

    /// <summary>Headers and their exact (comma-joined) values.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<string> AbsentHeaders { get; init; } = [];

    /// <summary>The TLS server name the backend must have been sent (upstream's <c>ExpectedRequest.SNI</c>); null: not checked.</summary>
    public string? Sni { get; init; }

    /// <summary>A PEM certificate the backend must have received from the Gateway as its client certificate; null: not checked.</summary>
    public string? ClientCertificatePem { get; init; }
}

/// <summary>The redirect target a 3xx answer must name (upstream's <c>http.RedirectRequest</c>).</summary>
internal sealed record ExpectedRedirect
{
    public string? Scheme { get; init; }

    public string? Host { get; init; }

    /// <summary>Null: no port expected (or the scheme's default).</summary>
    public int? Port { get; init; }

    public string? Path { get; init; }
}

/// <summary>One expectation: request, what the backend sees, the answer (upstream's <c>http.ExpectedResponse</c>).</summary>
internal sealed record ExpectedResponse
{
    public required Request Request { get; init; }

    /// <summary>Null: the backend must see <see cref="Request"/>'s path, host and method.</summary>
    public ExpectedRequest? ExpectedRequest { get; init; }

    public ExpectedRedirect? RedirectRequest { get; init; }

    /// <summary>Accepted status codes; default 200.</summary>
    public IReadOnlyList<int> StatusCodes { get; init; } = [200];

    /// <summary>Response headers and exact values.</summary>
    public IReadOnlyDictionary<string, string> ResponseHeaders { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<string> AbsentResponseHeaders { get; init; } = [];

    /// <summary>Response headers each of which must equal one of its listed values (upstream's <c>ValidHeaderValues</c>).</summary>
    public IReadOnlyDictionary<string, string[]> ResponseHeaderValues { get; init; } = new Dictionary<string, string[]>();

    /// <summary>Compare <see cref="ResponseHeaderValues"/> without whitespace (upstream's <c>IgnoreWhitespace</c>).</summary>
    public bool IgnoreWhitespace { get; init; }

    /// <summary>Headers the echo backend is asked to set on its answer (<c>X-Echo-Set-Header</c>).</summary>
    public IReadOnlyDictionary<string, string> BackendSetResponseHeaders { get; init; } = new Dictionary<string, string>();

    /// <summary>Pod name prefix (the Deployment's name); null accepts any backend.</summary>
    public string? Backend { get; init; }

    public string? Namespace { get; init; }

    public string Describe() => $"{Request.Method} {Request.Scheme}://{(Request.Host.Length == 0 ? "<gateway>" : Request.Host)}{Request.Path} → {string.Join("|", StatusCodes)}{(Backend is null ? "" : " from " + Backend)}";
}
