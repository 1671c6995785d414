using System.Collections.Immutable;

namespace Switchyard.Ir;

/// <summary>Structural equality helpers for immutable arrays (whose own equality is by reference).</summary>
internal static class IrEquality
{
    public static bool Seq<T>(ImmutableArray<T> a, ImmutableArray<T> b)
    {
        if (a.IsDefaultOrEmpty || b.IsDefaultOrEmpty)
        {
            return a.IsDefaultOrEmpty == b.IsDefaultOrEmpty;
        }

        return a.AsSpan().SequenceEqual(b.AsSpan(), EqualityComparer<T>.Default);
    }

    public static int Hash<T>(ImmutableArray<T> a)
    {
        var h = new HashCode();
        if (!a.IsDefault)
        {
            foreach (var item in a)
            {
                h.Add(item);
            }
        }

        return h.ToHashCode();
    }
}
