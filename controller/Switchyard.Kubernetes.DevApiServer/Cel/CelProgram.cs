namespace Switchyard.Kubernetes.DevApiServer.Cel;

/// <summary>
/// A compiled CEL validation rule: parsed, with its names and functions resolved. Immutable and shareable; evaluate it
/// with <see cref="Evaluate"/>.
/// </summary>
internal sealed class CelProgram
{
    private CelProgram(string source, CelExpr root, bool usesOldSelf)
    {
        Source = source;
        Root = root;
        UsesOldSelf = usesOldSelf;
    }

    public string Source { get; }

    public CelExpr Root { get; }

    /// <summary>The rule reads <c>oldSelf</c>: a transition rule, evaluated only on update when an old value correlates.</summary>
    public bool UsesOldSelf { get; }

    /// <summary>Parses and checks <paramref name="source"/> with <c>self</c> (and <c>oldSelf</c>) declared.</summary>
    /// <exception cref="CelSyntaxException">The text is not CEL.</exception>
    /// <exception cref="CelCompileException">An undeclared name, unknown function, wrong arity or bad regex literal.</exception>
    public static CelProgram Compile(string source)
    {
        var root = CelParser.Parse(source);
        var usesOldSelf = false;
        Check(root, ImmutableScope.Root, ref usesOldSelf);
        return new CelProgram(source, root, usesOldSelf);
    }

    /// <summary>Evaluates the rule with <c>self</c> bound to <paramref name="self"/>.</summary>
    /// <exception cref="CelEvaluationException">A CEL runtime error.</exception>
    /// <exception cref="CelCostLimitException">The budget ran out.</exception>
    public object Evaluate(object self, object? oldSelf, CelBudget budget) =>
        new CelInterpreter(budget).Evaluate(Root, new CelScope("self", self, oldSelf is null ? null : new CelScope("oldSelf", oldSelf, null)));

    private static void Check(CelExpr expr, ImmutableScope names, ref bool usesOldSelf)
    {
        switch (expr)
        {
            case CelLiteral:
                return;
            case CelIdent id:
                if (!names.Contains(id.Name))
                {
                    throw new CelCompileException($"{id.Position}: undeclared reference to '{id.Name}'");
                }

                usesOldSelf |= id.Name == "oldSelf";
                return;
            case CelSelect s:
                Check(s.Operand, names, ref usesOldSelf);
                return;
            case CelIndex i:
                Check(i.Operand, names, ref usesOldSelf);
                Check(i.Index, names, ref usesOldSelf);
                return;
            case CelUnary u:
                Check(u.Operand, names, ref usesOldSelf);
                return;
            case CelBinary b:
                Check(b.Left, names, ref usesOldSelf);
                Check(b.Right, names, ref usesOldSelf);
                return;
            case CelConditional c:
                Check(c.Condition, names, ref usesOldSelf);
                Check(c.WhenTrue, names, ref usesOldSelf);
                Check(c.WhenFalse, names, ref usesOldSelf);
                return;
            case CelListLiteral l:
                foreach (var e in l.Elements)
                {
                    Check(e, names, ref usesOldSelf);
                }

                return;
            case CelMapLiteral m:
                foreach (var (k, v) in m.Entries)
                {
                    Check(k, names, ref usesOldSelf);
                    Check(v, names, ref usesOldSelf);
                }

                return;
            case CelComprehension c:
                Check(c.Range, names, ref usesOldSelf);
                var inner = names.With(c.Variable);
                if (c.Predicate is not null)
                {
                    Check(c.Predicate, inner, ref usesOldSelf);
                }

                if (c.Transform is not null)
                {
                    Check(c.Transform, inner, ref usesOldSelf);
                }

                return;
            case CelCall call:
                if (call.Target is not null)
                {
                    Check(call.Target, names, ref usesOldSelf);
                }

                foreach (var a in call.Args)
                {
                    Check(a, names, ref usesOldSelf);
                }

                CelFunctions.Check(call);
                return;
            default:
                throw new CelCompileException($"{expr.Position}: unsupported expression");
        }
    }

    /// <summary>The names in scope while checking (a short immutable chain: rules nest a few macros at most).</summary>
    private sealed class ImmutableScope
    {
        private readonly string _name;
        private readonly ImmutableScope? _parent;

        private ImmutableScope(string name, ImmutableScope? parent)
        {
            _name = name;
            _parent = parent;
        }

        /// <summary>The rule's own variables.</summary>
        public static ImmutableScope Root { get; } = new("oldSelf", new ImmutableScope("self", null));

        public ImmutableScope With(string name) => new(name, this);

        public bool Contains(string name)
        {
            for (var s = this; s is not null; s = s._parent)
            {
                if (s._name == name)
                {
                    return true;
                }
            }

            return false;
        }
    }
}

/// <summary>Variable bindings during evaluation: a linked chain, innermost first.</summary>
internal sealed record CelScope(string Name, object Value, CelScope? Parent)
{
    public bool TryResolve(string name, out object value)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            if (s.Name == name)
            {
                value = s.Value;
                return true;
            }
        }

        value = CelNull.Instance;
        return false;
    }
}
