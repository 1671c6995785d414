namespace Switchyard.Kubernetes.DevApiServer.Cel;

/// <summary>A parsed CEL expression (cel-spec <c>doc/langdef.md</c>, abstract syntax). Immutable, so compiled rules are shared.</summary>
internal abstract record CelExpr(int Position);

/// <summary>A literal: <see cref="long"/>, <see cref="ulong"/>, <see cref="double"/>, <see cref="string"/>,
/// <see cref="CelBytes"/>, <see cref="bool"/> or <see cref="CelNull"/>.</summary>
internal sealed record CelLiteral(int Position, object Value) : CelExpr(Position);

/// <summary>A variable reference: <c>self</c>, <c>oldSelf</c> or a macro's iteration variable.</summary>
internal sealed record CelIdent(int Position, string Name) : CelExpr(Position);

/// <summary><c>operand.field</c>; with <see cref="TestOnly"/> it is the presence test of <c>has(operand.field)</c>.</summary>
internal sealed record CelSelect(int Position, CelExpr Operand, string Field, bool TestOnly) : CelExpr(Position);

/// <summary><c>operand[index]</c>.</summary>
internal sealed record CelIndex(int Position, CelExpr Operand, CelExpr Index) : CelExpr(Position);

/// <summary>A function call, global (<c>size(x)</c>) or receiver-style (<c>x.size()</c>, <see cref="Target"/> set).</summary>
internal sealed record CelCall(int Position, string Function, CelExpr? Target, IReadOnlyList<CelExpr> Args) : CelExpr(Position);

/// <summary><c>!x</c> or <c>-x</c>.</summary>
internal sealed record CelUnary(int Position, string Op, CelExpr Operand) : CelExpr(Position);

/// <summary>An arithmetic, relational, logical or <c>in</c> operator.</summary>
internal sealed record CelBinary(int Position, string Op, CelExpr Left, CelExpr Right) : CelExpr(Position);

/// <summary><c>condition ? whenTrue : whenFalse</c>.</summary>
internal sealed record CelConditional(int Position, CelExpr Condition, CelExpr WhenTrue, CelExpr WhenFalse) : CelExpr(Position);

/// <summary><c>[a, b, …]</c>.</summary>
internal sealed record CelListLiteral(int Position, IReadOnlyList<CelExpr> Elements) : CelExpr(Position);

/// <summary><c>{k: v, …}</c>.</summary>
internal sealed record CelMapLiteral(int Position, IReadOnlyList<(CelExpr Key, CelExpr Value)> Entries) : CelExpr(Position);

/// <summary>The comprehension macros (cel-spec "Macros").</summary>
internal enum CelMacro
{
    All,
    Exists,
    ExistsOne,
    Map,
    Filter,
}

/// <summary>
/// <c>range.all(v, predicate)</c>, <c>exists</c>, <c>exists_one</c>, <c>filter</c>, and <c>map(v, transform)</c> or
/// <c>map(v, predicate, transform)</c>. Over a map the variable takes the keys.
/// </summary>
internal sealed record CelComprehension(int Position, CelMacro Macro, CelExpr Range, string Variable, CelExpr? Predicate, CelExpr? Transform)
    : CelExpr(Position);
