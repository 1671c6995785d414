using System.Net.Http.Headers;

namespace Switchyard.Kubernetes.Client;

/// <summary>
/// Adds <c>Authorization: Bearer</c>. A token file is re-read whenever its modification time changes, because
/// projected service-account tokens are rotated in place by the kubelet.
/// </summary>
internal sealed class BearerTokenHandler(string? token, string? tokenFile, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private readonly Lock _gate = new();
    private DateTime _fileStamp;
    private string? _fileToken;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var current = CurrentToken();
        if (!string.IsNullOrEmpty(current))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", current);
        }

        return base.SendAsync(request, cancellationToken);
    }

    internal string? CurrentToken()
    {
        if (tokenFile is null)
        {
            return token;
        }

        lock (_gate)
        {
            try
            {
                var stamp = File.GetLastWriteTimeUtc(tokenFile);
                if (_fileToken is null || stamp != _fileStamp)
                {
                    _fileToken = File.ReadAllText(tokenFile).Trim();
                    _fileStamp = stamp;
                }
            }
            catch (IOException)
            {
                // Keep the last token while the kubelet swaps the file; the server will say 401 if it expired.
            }

            return _fileToken ?? token;
        }
    }
}
