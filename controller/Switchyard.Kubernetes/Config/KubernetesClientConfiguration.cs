using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.Config;

/// <summary>
/// Where the API server is and how to authenticate to it: the result of reading a kubeconfig or the in-cluster
/// service-account environment.
/// </summary>
public sealed class KubernetesClientConfiguration
{
    /// <summary>The directory in which a pod's service-account credentials are mounted.</summary>
    public const string ServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>The API server base address, for example <c>https://10.96.0.1:443</c>.</summary>
    public required Uri Server { get; init; }

    /// <summary>Certificates that anchor trust in the server's certificate; when empty the system store is used.</summary>
    public X509Certificate2Collection CertificateAuthorities { get; init; } = [];

    /// <summary>Accept any server certificate (kubeconfig <c>insecure-skip-tls-verify</c>).</summary>
    public bool SkipTlsVerify { get; init; }

    /// <summary>A static bearer token (kubeconfig <c>users[].user.token</c>).</summary>
    public string? Token { get; init; }

    /// <summary>A file holding the bearer token, re-read when it changes (projected service-account tokens rotate).</summary>
    public string? TokenFile { get; init; }

    /// <summary>A client certificate with its private key for mutual TLS.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>The default namespace of the selected context, or of the pod.</summary>
    public string Namespace { get; init; } = "default";

    /// <summary>True when the process runs in a pod (both service environment variables are set).</summary>
    public static bool IsInCluster =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST")) &&
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT"));

    /// <summary>
    /// Reads the in-cluster configuration: <c>KUBERNETES_SERVICE_HOST</c>/<c>PORT</c>, and the token, <c>ca.crt</c>
    /// and <c>namespace</c> files of the service account.
    /// </summary>
    /// <param name="serviceAccountDirectory">Overrides the mount directory (tests).</param>
    /// <exception cref="KubeconfigException">The environment is not a pod's.</exception>
    public static KubernetesClientConfiguration InCluster(string serviceAccountDirectory = ServiceAccountDirectory)
    {
        var host = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        var port = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
        {
            throw new KubeconfigException("not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
        }

        var tokenFile = Path.Combine(serviceAccountDirectory, "token");
        if (!File.Exists(tokenFile))
        {
            throw new KubeconfigException($"service-account token file {tokenFile} does not exist");
        }

        var cas = new X509Certificate2Collection();
        var caFile = Path.Combine(serviceAccountDirectory, "ca.crt");
        if (File.Exists(caFile))
        {
            cas.ImportFromPemFile(caFile);
        }

        var nsFile = Path.Combine(serviceAccountDirectory, "namespace");
        var ns = File.Exists(nsFile) ? File.ReadAllText(nsFile).Trim() : "default";

        // An IPv6 service host needs brackets in a URI.
        var hostPart = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        return new KubernetesClientConfiguration
        {
            Server = new Uri($"https://{hostPart}:{port}"),
            CertificateAuthorities = cas,
            TokenFile = tokenFile,
            Namespace = ns.Length == 0 ? "default" : ns,
        };
    }

    /// <summary>Reads the kubeconfig at <paramref name="path"/> (YAML or JSON) and selects a context.</summary>
    /// <param name="path">The file; relative file references in it are resolved against its directory.</param>
    /// <param name="context">The context to use; the file's <c>current-context</c> when null.</param>
    /// <exception cref="KubeconfigException">The file is malformed or references something missing.</exception>
    public static KubernetesClientConfiguration FromKubeconfigFile(string path, string? context = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException ex)
        {
            throw new KubeconfigException($"cannot read kubeconfig {path}: {ex.Message}", ex);
        }

        return FromKubeconfigText(text, context, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>
    /// Picks the configuration the way client-go's default loading rules do: in-cluster when the service variables are
    /// set and no kubeconfig is given, otherwise <c>$KUBECONFIG</c> (first file) or <c>~/.kube/config</c>.
    /// </summary>
    /// <param name="kubeconfigPath">An explicit kubeconfig, which wins over everything.</param>
    public static KubernetesClientConfiguration Load(string? kubeconfigPath = null)
    {
        if (kubeconfigPath is not null)
        {
            return FromKubeconfigFile(kubeconfigPath);
        }

        var env = Environment.GetEnvironmentVariable("KUBECONFIG");
        if (!string.IsNullOrEmpty(env))
        {
            return FromKubeconfigFile(env.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)[0]);
        }

        if (IsInCluster)
        {
            return InCluster();
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return FromKubeconfigFile(Path.Combine(home, ".kube", "config"));
    }

    /// <summary>Parses kubeconfig text (YAML or JSON).</summary>
    /// <param name="text">The kubeconfig document.</param>
    /// <param name="context">The context to use; <c>current-context</c> when null.</param>
    /// <param name="baseDirectory">Directory against which relative file paths are resolved.</param>
    /// <exception cref="KubeconfigException">The text is malformed or references something missing.</exception>
    public static KubernetesClientConfiguration FromKubeconfigText(string text, string? context = null, string? baseDirectory = null)
    {
        JsonNode root;
        try
        {
            root = YamlJson.ParseOne(text);
        }
        catch (FormatException ex)
        {
            throw new KubeconfigException($"kubeconfig is not valid YAML/JSON: {ex.Message}", ex);
        }

        if (root is not JsonObject doc)
        {
            throw new KubeconfigException("kubeconfig root must be a mapping");
        }

        var contextName = context ?? Str(doc, "current-context", "kubeconfig");
        if (string.IsNullOrEmpty(contextName))
        {
            throw new KubeconfigException("kubeconfig has no current-context and no context was requested");
        }

        var ctx = Named(doc, "contexts", "context", contextName);
        var clusterName = Str(ctx, "cluster", $"context {contextName}") ?? throw new KubeconfigException($"context {contextName} names no cluster");
        var cluster = Named(doc, "clusters", "cluster", clusterName);
        var userName = Str(ctx, "user", $"context {contextName}");
        var user = string.IsNullOrEmpty(userName) ? new JsonObject() : Named(doc, "users", "user", userName);

        var server = Str(cluster, "server", $"cluster {clusterName}") ?? throw new KubeconfigException($"cluster {clusterName} has no server");
        if (!Uri.TryCreate(server, UriKind.Absolute, out var serverUri) || (serverUri.Scheme != "https" && serverUri.Scheme != "http"))
        {
            throw new KubeconfigException($"cluster {clusterName} server '{server}' is not an http(s) URL");
        }

        var cas = new X509Certificate2Collection();
        var caData = Str(cluster, "certificate-authority-data", clusterName);
        var caFile = Str(cluster, "certificate-authority", clusterName);
        try
        {
            if (!string.IsNullOrEmpty(caData))
            {
                cas.ImportFromPem(Encoding.UTF8.GetString(Base64(caData, "certificate-authority-data")));
            }
            else if (!string.IsNullOrEmpty(caFile))
            {
                cas.ImportFromPemFile(Resolve(caFile, baseDirectory));
            }
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException)
        {
            throw new KubeconfigException($"cluster {clusterName} certificate authority cannot be loaded: {ex.Message}", ex);
        }

        var skip = cluster["insecure-skip-tls-verify"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

        X509Certificate2? clientCert = null;
        var certData = Str(user, "client-certificate-data", userName ?? "user");
        var keyData = Str(user, "client-key-data", userName ?? "user");
        var certFile = Str(user, "client-certificate", userName ?? "user");
        var keyFile = Str(user, "client-key", userName ?? "user");
        try
        {
            var certPem = !string.IsNullOrEmpty(certData) ? Encoding.UTF8.GetString(Base64(certData, "client-certificate-data"))
                : !string.IsNullOrEmpty(certFile) ? File.ReadAllText(Resolve(certFile, baseDirectory)) : null;
            var keyPem = !string.IsNullOrEmpty(keyData) ? Encoding.UTF8.GetString(Base64(keyData, "client-key-data"))
                : !string.IsNullOrEmpty(keyFile) ? File.ReadAllText(Resolve(keyFile, baseDirectory)) : null;
            if (certPem is not null && keyPem is not null)
            {
                using var pemCert = X509Certificate2.CreateFromPem(certPem, keyPem);
                // Re-import through PKCS#12 so SslStream can use the ephemeral key on every platform.
                clientCert = X509CertificateLoader.LoadPkcs12(pemCert.Export(X509ContentType.Pkcs12), null);
            }
            else if (certPem is not null || keyPem is not null)
            {
                throw new KubeconfigException($"user {userName} has a client certificate without a key, or a key without a certificate");
            }
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException)
        {
            throw new KubeconfigException($"user {userName} client certificate cannot be loaded: {ex.Message}", ex);
        }

        var tokenFile = Str(user, "tokenFile", userName ?? "user");
        return new KubernetesClientConfiguration
        {
            Server = serverUri,
            CertificateAuthorities = cas,
            SkipTlsVerify = skip,
            Token = Str(user, "token", userName ?? "user"),
            TokenFile = string.IsNullOrEmpty(tokenFile) ? null : Resolve(tokenFile, baseDirectory),
            ClientCertificate = clientCert,
            Namespace = Str(ctx, "namespace", contextName) is { Length: > 0 } ns ? ns : "default",
        };
    }

    /// <summary>Creates the HTTP handler that applies this configuration's TLS settings.</summary>
    public SocketsHttpHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            // Requests use HTTP/1.1 (HttpClient's default), so each watch holds its own connection. A caller that opts
            // into HTTP/2 gets extra connections rather than watches stalled behind the server's stream limit.
            EnableMultipleHttp2Connections = true,
        };
        var ssl = new SslClientAuthenticationOptions();
        if (ClientCertificate is not null)
        {
            ssl.ClientCertificates = [ClientCertificate];
        }

        if (SkipTlsVerify)
        {
            ssl.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (CertificateAuthorities.Count > 0)
        {
            var anchors = CertificateAuthorities;
            ssl.RemoteCertificateValidationCallback = (_, cert, _, errors) => ValidateAgainst(anchors, cert, errors);
        }

        handler.SslOptions = ssl;
        return handler;
    }

    private static bool ValidateAgainst(X509Certificate2Collection anchors, X509Certificate? cert, SslPolicyErrors errors)
    {
        if (cert is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(cert);
        // Name mismatch is still an error: only the trust anchor is replaced.
        return chain.Build(leaf) && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0;
    }

    private static JsonObject Named(JsonObject doc, string listKey, string innerKey, string name)
    {
        if (doc[listKey] is not JsonArray list)
        {
            throw new KubeconfigException($"kubeconfig has no '{listKey}' list");
        }

        foreach (var item in list)
        {
            if (item is JsonObject o && Str(o, "name", listKey) == name)
            {
                return o[innerKey] as JsonObject ?? throw new KubeconfigException($"{listKey} entry '{name}' has no '{innerKey}' mapping");
            }
        }

        throw new KubeconfigException($"kubeconfig has no {innerKey} named '{name}'");
    }

    private static string? Str(JsonObject o, string key, string where) => o[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v => v.ToJsonString(),
        _ => throw new KubeconfigException($"'{key}' in {where} must be a scalar"),
    };

    private static byte[] Base64(string data, string field)
    {
        try
        {
            return System.Convert.FromBase64String(data.Trim());
        }
        catch (FormatException ex)
        {
            throw new KubeconfigException($"{field} is not valid base64 (RFC 4648 §4)", ex);
        }
    }

    private static string Resolve(string path, string? baseDirectory) =>
        Path.IsPathRooted(path) || baseDirectory is null ? path : Path.Combine(baseDirectory, path);
}
