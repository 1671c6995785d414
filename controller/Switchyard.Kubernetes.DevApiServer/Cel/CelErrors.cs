namespace Switchyard.Kubernetes.DevApiServer.Cel;

/// <summary>Any failure to compile or run a CEL expression. Never escapes as a 500: callers map it to a field error.</summary>
internal abstract class CelException(string message) : Exception(message);

/// <summary>
/// The expression is not CEL (cel-spec <c>doc/langdef.md</c>, "Syntax"). The message has cel-go's shape:
/// <c>ERROR: &lt;input&gt;:LINE:COLUMN: Syntax error: …</c>.
/// </summary>
internal sealed class CelSyntaxException(int position, int line, int column, string detail)
    : CelException($"ERROR: <input>:{line}:{column}: Syntax error: {detail}")
{
    /// <summary>Zero-based offset of the offending character in the expression.</summary>
    public int Position { get; } = position;

    /// <summary>The reason without the location prefix.</summary>
    public string Detail { get; } = detail;
}

/// <summary>
/// The expression parses but cannot be checked (cel-spec "Name Resolution" and "Functions"): an undeclared
/// variable, an unknown function or macro, or a wrong argument count. Reported when the CRD is registered.
/// </summary>
internal sealed class CelCompileException(string detail) : CelException($"ERROR: <input>: {detail}");

/// <summary>
/// A runtime error value (cel-spec "Runtime Errors"): no such key, index out of bounds, no such overload, overflow,
/// division by zero, a bad conversion. <c>&amp;&amp;</c>, <c>||</c>, <c>?:</c> and the macros absorb it where the
/// spec says they do; otherwise the rule fails with it.
/// </summary>
internal sealed class CelEvaluationException(string message) : CelException(message);

/// <summary>The evaluation ran out of its cost budget (the double's stand-in for cel-go's cost limit).</summary>
internal sealed class CelCostLimitException() : CelException("operation cancelled: actual cost limit exceeded");
