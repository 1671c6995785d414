using Switchyard.Api.Meta;
using Switchyard.Controller.Providers;

namespace Switchyard.Controller.Translation;

/// <summary>ReferenceGrant checks and label selectors.</summary>
internal static class References
{
    /// <summary>
    /// Whether a ReferenceGrant in the target's namespace lets objects of <paramref name="fromKind"/> in
    /// <paramref name="fromNamespace"/> refer to the target. Same-namespace references need no grant.
    /// </summary>
    public static bool Permitted(ResourceSnapshot snapshot, string fromGroup, string fromKind, string fromNamespace, string toGroup, string toKind, string toNamespace, string toName)
    {
        if (fromNamespace == toNamespace)
        {
            return true;
        }

        foreach (var grant in snapshot.ReferenceGrants)
        {
            if (grant.Metadata.Namespace != toNamespace)
            {
                continue;
            }

            var from = grant.Spec.From.Exists(f => f.Group == fromGroup && f.Kind == fromKind && f.Namespace == fromNamespace);
            var to = grant.Spec.To.Exists(t => t.Group == toGroup && t.Kind == toKind && (string.IsNullOrEmpty(t.Name) || t.Name == toName));
            if (from && to)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Evaluates a label selector; an empty selector matches everything.</summary>
    public static bool Matches(LabelSelector? selector, IReadOnlyDictionary<string, string> labels)
    {
        if (selector is null)
        {
            return true;
        }

        foreach (var (k, v) in selector.MatchLabels ?? [])
        {
            if (!labels.TryGetValue(k, out var actual) || actual != v)
            {
                return false;
            }
        }

        foreach (var e in selector.MatchExpressions ?? [])
        {
            var has = labels.TryGetValue(e.Key, out var value);
            var values = e.Values ?? [];
            var ok = e.Operator switch
            {
                "In" => has && values.Contains(value!),
                "NotIn" => !has || !values.Contains(value!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
