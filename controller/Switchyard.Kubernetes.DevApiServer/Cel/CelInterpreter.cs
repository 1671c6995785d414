namespace Switchyard.Kubernetes.DevApiServer.Cel;

/// <summary>
/// A tree-walking evaluator for checked CEL expressions (cel-spec <c>doc/langdef.md</c>, "Evaluation"). Runtime
/// errors are <see cref="CelEvaluationException"/>s, absorbed by <c>&amp;&amp;</c>, <c>||</c>, <c>all</c> and
/// <c>exists</c> when the other side decides the result, as the spec's commutative logic requires. Every node is
/// charged to the <see cref="CelBudget"/>.
/// </summary>
internal sealed class CelInterpreter(CelBudget budget)
{
    public object Evaluate(CelExpr expr, CelScope scope)
    {
        budget.Charge(1);
        switch (expr)
        {
            case CelLiteral lit:
                return lit.Value;
            case CelIdent id:
                return scope.TryResolve(id.Name, out var bound) ? bound : throw new CelEvaluationException($"no such attribute: {id.Name}");
            case CelSelect sel:
                return Select(sel, scope);
            case CelIndex idx:
                return Index(Evaluate(idx.Operand, scope), Evaluate(idx.Index, scope));
            case CelUnary u:
                return Unary(u.Op, Evaluate(u.Operand, scope));
            case CelBinary { Op: "&&" or "||" } logic:
                return Logic(logic, scope);
            case CelBinary b:
                return Binary(b.Op, Evaluate(b.Left, scope), Evaluate(b.Right, scope));
            case CelConditional c:
                return Evaluate(c.Condition, scope) switch
                {
                    true => Evaluate(c.WhenTrue, scope),
                    false => Evaluate(c.WhenFalse, scope),
                    var other => throw new CelEvaluationException($"no such overload: _?_:_ applied to {CelValues.TypeName(other)}"),
                };
            case CelListLiteral list:
                {
                    budget.Charge(list.Elements.Count);
                    var items = new object[list.Elements.Count];
                    for (var i = 0; i < items.Length; i++)
                    {
                        items[i] = Evaluate(list.Elements[i], scope);
                    }

                    return new CelList(items);
                }

            case CelMapLiteral map:
                {
                    budget.Charge(map.Entries.Count);
                    var entries = new List<KeyValuePair<object, object>>(map.Entries.Count);
                    foreach (var (k, v) in map.Entries)
                    {
                        var key = Evaluate(k, scope);
                        if (key is not (string or long or ulong or bool))
                        {
                            throw new CelEvaluationException($"unsupported key type: {CelValues.TypeName(key)}");
                        }

                        if (entries.Any(e => CelValues.Equal(e.Key, key)))
                        {
                            throw new CelEvaluationException($"Failed with repeated key: {key}");
                        }

                        entries.Add(new(key, Evaluate(v, scope)));
                    }

                    return new CelMap(entries);
                }

            case CelComprehension comp:
                return Comprehension(comp, scope);
            case CelCall call:
                {
                    var target = call.Target is null ? Evaluate(call.Args[0], scope) : Evaluate(call.Target, scope);
                    var first = call.Target is null ? 1 : 0;
                    var args = new object[call.Args.Count - first];
                    for (var i = 0; i < args.Length; i++)
                    {
                        args[i] = Evaluate(call.Args[i + first], scope);
                    }

                    return CelFunctions.Invoke(call.Function, target, args, budget);
                }

            default:
                throw new CelEvaluationException("unsupported expression");
        }
    }

    private object Select(CelSelect sel, CelScope scope)
    {
        var operand = Evaluate(sel.Operand, scope);
        if (operand is not CelMap map)
        {
            throw new CelEvaluationException(sel.TestOnly
                ? $"invalid type for field selection: {CelValues.TypeName(operand)}"
                : $"no such overload: field selection on {CelValues.TypeName(operand)}");
        }

        if (sel.TestOnly)
        {
            return map.TrySelect(sel.Field, out _);
        }

        return map.TrySelect(sel.Field, out var value) ? value : throw new CelEvaluationException($"no such key: {sel.Field}");
    }

    private static object Index(object operand, object index)
    {
        switch (operand)
        {
            case CelList list:
                long i = index switch
                {
                    long l => l,
                    ulong u when u <= long.MaxValue => (long)u,
                    double d when d == Math.Floor(d) && Math.Abs(d) < 9e18 => (long)d,
                    _ => throw new CelEvaluationException($"no such overload: list index of type {CelValues.TypeName(index)}"),
                };
                return i >= 0 && i < list.Count ? list[(int)i] : throw new CelEvaluationException($"index out of bounds: {i}");
            case CelMap map:
                return map.TryGet(index, out var value) ? value : throw new CelEvaluationException($"no such key: {index}");
            default:
                throw new CelEvaluationException($"no such overload: index of {CelValues.TypeName(operand)}");
        }
    }

    private static object Unary(string op, object v) => (op, v) switch
    {
        ("!", bool b) => !b,
        ("-", long l) => l == long.MinValue ? throw Overflow() : -l,
        ("-", double d) => -d,
        ("-", CelDuration d) => d.Nanoseconds == long.MinValue ? throw Overflow() : new CelDuration(-d.Nanoseconds),
        _ => throw new CelEvaluationException($"no such overload: {op}{CelValues.TypeName(v)}"),
    };

    private object Logic(CelBinary logic, CelScope scope)
    {
        // cel-spec "Logical Operators": false && error is false, true || error is true, in either order.
        var decisive = logic.Op == "||";
        CelEvaluationException? leftError = null;
        object? left = null;
        try
        {
            left = Evaluate(logic.Left, scope);
            if (left is bool lb && lb == decisive)
            {
                return decisive;
            }
        }
        catch (CelEvaluationException ex)
        {
            leftError = ex;
        }

        var right = Evaluate(logic.Right, scope);
        if (right is bool rb && rb == decisive)
        {
            return decisive;
        }

        if (leftError is not null)
        {
            throw leftError;
        }

        return left is bool && right is bool
            ? !decisive
            : throw new CelEvaluationException($"no such overload: {CelValues.TypeName(left!)} {logic.Op} {CelValues.TypeName(right)}");
    }

    private object Binary(string op, object l, object r)
    {
        switch (op)
        {
            case "==":
                return CelValues.Equal(l, r);
            case "!=":
                return !CelValues.Equal(l, r);
            case "in":
                switch (r)
                {
                    case CelList list:
                        budget.Charge(list.Count);
                        foreach (var item in list)
                        {
                            if (CelValues.Equal(item, l))
                            {
                                return true;
                            }
                        }

                        return false;
                    case CelMap map:
                        return map.TryGet(l, out _);
                    default:
                        throw NoOverload(op, l, r);
                }

            case "<" or "<=" or ">" or ">=":
                {
                    int? c = (l, r) switch
                    {
                        _ when CelValues.IsNumber(l) && CelValues.IsNumber(r) => CelValues.CompareNumbers(l, r),
                        (string a, string b) => CelValues.CompareStrings(a, b),
                        (bool a, bool b) => a.CompareTo(b),
                        (CelBytes a, CelBytes b) => a.Value.AsSpan().SequenceCompareTo(b.Value),
                        (CelDuration a, CelDuration b) => a.Nanoseconds.CompareTo(b.Nanoseconds),
                        _ => throw NoOverload(op, l, r),
                    };
                    return c is { } cmp && op switch
                    {
                        "<" => cmp < 0,
                        "<=" => cmp <= 0,
                        ">" => cmp > 0,
                        _ => cmp >= 0,
                    };
                }

            default:
                return Arithmetic(op, l, r);
        }
    }

    private object Arithmetic(string op, object l, object r)
    {
        try
        {
            checked
            {
                switch (op, l, r)
                {
                    case ("+", long a, long b): return a + b;
                    case ("-", long a, long b): return a - b;
                    case ("*", long a, long b): return a * b;
                    case ("/", long a, long b): return b == 0 ? throw new CelEvaluationException("division by zero") : a / b;
                    case ("%", long a, long b): return b == 0 ? throw new CelEvaluationException("modulus by zero") : a % b;
                    case ("+", ulong a, ulong b): return a + b;
                    case ("-", ulong a, ulong b): return a - b;
                    case ("*", ulong a, ulong b): return a * b;
                    case ("/", ulong a, ulong b): return b == 0 ? throw new CelEvaluationException("division by zero") : a / b;
                    case ("%", ulong a, ulong b): return b == 0 ? throw new CelEvaluationException("modulus by zero") : a % b;
                    case ("+", double a, double b): return a + b;
                    case ("-", double a, double b): return a - b;
                    case ("*", double a, double b): return a * b;
                    case ("/", double a, double b): return a / b;
                    case ("+", string a, string b):
                        budget.Charge((a.Length + b.Length) / 16);
                        return a + b;
                    case ("+", CelBytes a, CelBytes b):
                        budget.Charge((a.Value.Length + b.Value.Length) / 16);
                        return new CelBytes([.. a.Value, .. b.Value]);
                    case ("+", CelList a, CelList b):
                        budget.Charge(a.Count + b.Count);
                        return new CelList([.. a, .. b]);
                    case ("+", CelDuration a, CelDuration b): return new CelDuration(a.Nanoseconds + b.Nanoseconds);
                    case ("-", CelDuration a, CelDuration b): return new CelDuration(a.Nanoseconds - b.Nanoseconds);
                }
            }
        }
        catch (OverflowException)
        {
            throw Overflow();
        }

        throw NoOverload(op, l, r);
    }

    private object Comprehension(CelComprehension comp, CelScope scope)
    {
        var range = Evaluate(comp.Range, scope);
        IEnumerable<object> items = range switch
        {
            CelList list => list,
            CelMap map => map.Keys,
            _ => throw new CelEvaluationException($"no such overload: {comp.Macro} over {CelValues.TypeName(range)}"),
        };

        var results = comp.Macro is CelMacro.Map or CelMacro.Filter ? new List<object>() : null;
        CelEvaluationException? absorbed = null;
        var count = 0;
        foreach (var item in items)
        {
            budget.Charge(1);
            var inner = new CelScope(comp.Variable, item, scope);
            switch (comp.Macro)
            {
                case CelMacro.All or CelMacro.Exists:
                    {
                        var decisive = comp.Macro == CelMacro.Exists;
                        try
                        {
                            var v = Evaluate(comp.Predicate!, inner);
                            if (v is not bool b)
                            {
                                throw new CelEvaluationException($"no such overload: {comp.Macro} predicate returned {CelValues.TypeName(v)}");
                            }

                            if (b == decisive)
                            {
                                return decisive;
                            }
                        }
                        catch (CelEvaluationException ex)
                        {
                            absorbed ??= ex;
                        }

                        break;
                    }

                case CelMacro.ExistsOne:
                    if (Predicate(comp.Predicate!, inner))
                    {
                        count++;
                    }

                    break;
                case CelMacro.Filter:
                    if (Predicate(comp.Predicate!, inner))
                    {
                        results!.Add(item);
                    }

                    break;
                case CelMacro.Map:
                    if (comp.Predicate is null || Predicate(comp.Predicate, inner))
                    {
                        results!.Add(Evaluate(comp.Transform!, inner));
                    }

                    break;
            }
        }

        return comp.Macro switch
        {
            CelMacro.All or CelMacro.Exists => absorbed is not null ? throw absorbed : comp.Macro == CelMacro.All,
            CelMacro.ExistsOne => count == 1,
            _ => new CelList(results!),
        };
    }

    private bool Predicate(CelExpr predicate, CelScope scope) => Evaluate(predicate, scope) switch
    {
        bool b => b,
        var other => throw new CelEvaluationException($"no such overload: predicate returned {CelValues.TypeName(other)}"),
    };

    private static CelEvaluationException Overflow() => new("return error for overflow");

    private static CelEvaluationException NoOverload(string op, object l, object r) =>
        new($"no such overload: {CelValues.TypeName(l)} {op} {CelValues.TypeName(r)}");
}
