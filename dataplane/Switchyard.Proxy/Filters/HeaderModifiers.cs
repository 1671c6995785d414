using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Switchyard.Ir;

namespace Switchyard.Proxy.Filters;

/// <summary>
/// The Gateway API RequestHeaderModifier and ResponseHeaderModifier filters: remove, then set (overwrite), then add
/// (append to existing values). Header names compare case-insensitively.
/// </summary>
internal static class HeaderModifiers
{
    /// <summary>Applies <paramref name="modifier"/> to an outgoing backend request (message and content headers).</summary>
    /// <param name="modifier">The filter, or null.</param>
    /// <param name="request">The request to the backend.</param>
    public static void Apply(HeaderModifierIr? modifier, HttpRequestMessage request)
    {
        if (modifier is null)
        {
            return;
        }

        foreach (var name in modifier.Remove.IsDefault ? [] : modifier.Remove)
        {
            Remove(request, name);
        }

        foreach (var h in modifier.Set.IsDefault ? [] : modifier.Set)
        {
            Remove(request, h.Name);
            Add(request, h.Name, h.Value);
        }

        foreach (var h in modifier.Add.IsDefault ? [] : modifier.Add)
        {
            Append(request, h.Name, h.Value);
        }
    }

    /// <summary>Applies <paramref name="modifier"/> to response headers about to be sent to the client.</summary>
    /// <param name="modifier">The filter, or null.</param>
    /// <param name="headers">The client response headers.</param>
    public static void Apply(HeaderModifierIr? modifier, IHeaderDictionary headers)
    {
        if (modifier is null)
        {
            return;
        }

        foreach (var name in modifier.Remove.IsDefault ? [] : modifier.Remove)
        {
            headers.Remove(name);
        }

        foreach (var h in modifier.Set.IsDefault ? [] : modifier.Set)
        {
            headers[h.Name] = h.Value;
        }

        foreach (var h in modifier.Add.IsDefault ? [] : modifier.Add)
        {
            headers[h.Name] = headers.TryGetValue(h.Name, out var existing) ? StringValues.Concat(existing, h.Value) : new StringValues(h.Value);
        }
    }

    private static void Remove(HttpRequestMessage request, string name)
    {
        request.Headers.Remove(name);
        request.Content?.Headers.Remove(name);
    }

    /// <summary>
    /// Appends <paramref name="value"/> to a header that may already be present, as one field value joined with a bare
    /// comma (RFC 9110 §5.3 makes <c>a,b</c> and <c>a, b</c> equivalent; Gateway API conformance compares <c>a,b</c>).
    /// A multi-valued header would be written by HttpClient with ", " between the values, so the values are joined here.
    /// </summary>
    private static void Append(HttpRequestMessage request, string name, string value)
    {
        if (request.Headers.NonValidated.TryGetValues(name, out var existing)
            || (request.Content is { } c && c.Headers.NonValidated.TryGetValues(name, out existing)))
        {
            var joined = string.Join(',', [.. existing, value]);
            Remove(request, name);
            Add(request, name, joined);
            return;
        }

        Add(request, name, value);
    }

    private static void Add(HttpRequestMessage request, string name, string value)
    {
        // Content-* headers live on the content; without content there is no body for them to describe.
        if (!request.Headers.TryAddWithoutValidation(name, value) && request.Content is { } content)
        {
            content.Headers.TryAddWithoutValidation(name, value);
        }
    }

    /// <summary>True when <paramref name="name"/> belongs on <see cref="HttpContentHeaders"/>.</summary>
    internal static bool IsContentHeader(string name) =>
        name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "Expires", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "Last-Modified", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "Allow", StringComparison.OrdinalIgnoreCase);
}
