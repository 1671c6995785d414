namespace Switchyard.Cli.Interop;

/// <summary>Maps URL paths to files under a folder, the same way for the server's root and the client's downloads.</summary>
internal static class InteropPaths
{
    /// <summary>
    /// The file under <paramref name="root"/> that <paramref name="urlPath"/> names (query and fragment dropped,
    /// percent-decoded), or null when it names no file or would leave the root (<c>..</c>, NUL).
    /// </summary>
    public static string? MapUnder(string root, string? urlPath)
    {
        if (string.IsNullOrEmpty(urlPath) || urlPath[0] != '/')
        {
            return null;
        }

        var fullRoot = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var path = urlPath;
        var cut = path.IndexOfAny(['?', '#']);
        if (cut >= 0)
        {
            path = path[..cut];
        }

        path = Uri.UnescapeDataString(path).TrimStart('/');
        if (path.Length == 0 || path.EndsWith('/') || path.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        var full = Path.GetFullPath(Path.Combine(fullRoot, path));
        return full.StartsWith(fullRoot, StringComparison.Ordinal) ? full : null;
    }
}
