using System.Text;
using Microsoft.AspNetCore.Http;
using Switchyard.Ir;
using Switchyard.Proxy.Matching;

namespace Switchyard.Proxy.Filters;

/// <summary>The path half of the Gateway API URLRewrite and RequestRedirect filters.</summary>
internal static class PathModifiers
{
    /// <summary>
    /// Computes the new path. <c>ReplaceFullPath</c> replaces it; <c>ReplacePrefixMatch</c> replaces the part the
    /// rule's PathPrefix matched, element-wise, so that <c>/foo/bar</c> with prefix <c>/foo</c> and replacement
    /// <c>/xyz</c> (or <c>/xyz/</c>) becomes <c>/xyz/bar</c>, a replacement of <c>/</c> strips the prefix, and an
    /// empty result becomes <c>/</c>.
    /// </summary>
    /// <param name="modifier">The path modifier.</param>
    /// <param name="route">The matched route (its PathPrefix is the part replaced).</param>
    /// <param name="path">The decoded request path.</param>
    /// <returns>The decoded new path.</returns>
    public static string Apply(PathModifierIr modifier, CompiledRoute route, string path)
    {
        if (modifier.Type == PathModifierType.ReplaceFullPath || route.PathType != PathMatchType.PathPrefix)
        {
            return modifier.Value.Length == 0 ? "/" : modifier.Value;
        }

        // The normalized prefix has no trailing slash, so the rest is empty or starts with '/'.
        var prefixLength = Math.Min(route.PathValue.Length, path.Length);
        var rest = path.AsSpan(prefixLength);
        var replacement = modifier.Value.AsSpan().TrimEnd('/');
        if (replacement.IsEmpty && rest.IsEmpty)
        {
            return "/";
        }

        if (replacement.IsEmpty)
        {
            return rest.ToString();
        }

        return string.Concat(replacement, rest);
    }

    /// <summary>Percent-encodes a decoded path for a request target or Location header (RFC 3986 §3.3).</summary>
    public static string Encode(string path) => new PathString(path).ToUriComponent();

    /// <summary>Builds <c>scheme://authority/path?query</c>.</summary>
    internal static string Url(string scheme, string authority, string encodedPath, string query) =>
        new StringBuilder(scheme.Length + authority.Length + encodedPath.Length + query.Length + 3)
            .Append(scheme).Append("://").Append(authority).Append(encodedPath).Append(query).ToString();
}
