namespace Switchyard.Kubernetes.DevApiServer.Cel;

/// <summary>
/// A recursive-descent parser for the CEL grammar (cel-spec <c>doc/langdef.md</c>, "Syntax"), expanding the macros
/// <c>has</c>, <c>all</c>, <c>exists</c>, <c>exists_one</c>, <c>map</c> and <c>filter</c> as it goes.
/// </summary>
/// <remarks>
/// Bounded like cel-go's parser: the expression may be at most <see cref="MaxLength"/> characters and nest at most
/// <see cref="MaxDepth"/> levels, so hostile input costs time and memory in proportion to its (bounded) length and can
/// never exhaust the stack. Every failure is a <see cref="CelSyntaxException"/>.
/// Message construction (<c>Type{field: …}</c>) and the optional syntax (<c>?.</c>, <c>[?</c>) are not supported.
/// </remarks>
internal sealed class CelParser
{
    /// <summary>Longest accepted expression, in UTF-16 code units (cel-go's default limit is 100,000 code points).</summary>
    public const int MaxLength = 100_000;

    /// <summary>Deepest accepted nesting (cel-go limits recursion to 250; the double is stricter).</summary>
    public const int MaxDepth = 100;

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package",
        "namespace", "return", "var", "void", "while",
    };

    private readonly CelLexer _lexer;
    private CelToken _token;
    private int _depth;

    private CelParser(string source)
    {
        _lexer = new CelLexer(source);
        _token = _lexer.Next();
    }

    /// <summary>Parses <paramref name="source"/> into an expression tree.</summary>
    /// <exception cref="CelSyntaxException">The text is not a CEL expression the double understands.</exception>
    public static CelExpr Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Length > MaxLength)
        {
            throw new CelSyntaxException(MaxLength, 1, MaxLength, $"expression code point size exceeds limit: size: {source.Length}, limit {MaxLength}");
        }

        var parser = new CelParser(source);
        var expr = parser.Expression();
        if (parser._token.Kind != CelTokenKind.End)
        {
            throw parser.Unexpected();
        }

        return expr;
    }

    private void Advance() => _token = _lexer.Next();

    private bool IsPunct(string p) => _token.Kind == CelTokenKind.Punctuation && _token.Text == p;

    private bool Accept(string p)
    {
        if (!IsPunct(p))
        {
            return false;
        }

        Advance();
        return true;
    }

    private void Expect(string p)
    {
        if (!Accept(p))
        {
            throw _token.Kind == CelTokenKind.End
                ? _lexer.Error(_token.Position, $"mismatched input '<EOF>' expecting '{p}'")
                : _lexer.Error(_token.Position, $"mismatched input '{_token.Text}' expecting '{p}'");
        }
    }

    private CelSyntaxException Unexpected() => _token.Kind == CelTokenKind.End
        ? _lexer.Error(_token.Position, "unexpected end of expression")
        : _lexer.Error(_token.Position, $"extraneous input '{_token.Text}'");

    private void Enter()
    {
        if (++_depth > MaxDepth)
        {
            throw _lexer.Error(_token.Position, $"expression recursion limit exceeded: {MaxDepth}");
        }
    }

    // Expr = ConditionalOr ["?" ConditionalOr ":" Expr]
    private CelExpr Expression()
    {
        Enter();
        var condition = Binary(0);
        if (IsPunct("?"))
        {
            var at = _token.Position;
            Advance();
            var whenTrue = Binary(0);
            Expect(":");
            var whenFalse = Expression();
            condition = new CelConditional(at, condition, whenTrue, whenFalse);
        }

        _depth--;
        return condition;
    }

    // Precedence levels, loosest first: || ; && ; relations and in ; + - ; * / %.
    private static readonly string[][] Levels =
    [
        ["||"],
        ["&&"],
        ["==", "!=", "<", "<=", ">", ">=", "in"],
        ["+", "-"],
        ["*", "/", "%"],
    ];

    private CelExpr Binary(int level)
    {
        if (level == Levels.Length)
        {
            return Unary();
        }

        var left = Binary(level + 1);
        while (true)
        {
            var op = Levels[level].FirstOrDefault(o => o == "in" ? _token.Kind == CelTokenKind.Identifier && _token.Text == "in" : IsPunct(o));
            if (op is null)
            {
                return left;
            }

            var at = _token.Position;
            Advance();
            Enter();
            var right = Binary(level + 1);
            _depth--;
            left = new CelBinary(at, op, left, right);
        }
    }

    // Unary = Member | "!" {"!"} Member | "-" {"-"} Member
    private CelExpr Unary()
    {
        if (IsPunct("!") || IsPunct("-"))
        {
            var op = _token.Text;
            var at = _token.Position;
            Advance();
            Enter();
            CelExpr result;
            if (op == "-" && _token.Kind == CelTokenKind.Int && (ulong)_token.Value! == (ulong)long.MaxValue + 1)
            {
                // The one literal that only exists negated: -9223372036854775808.
                var literalAt = _token.Position;
                Advance();
                result = Postfix(new CelLiteral(literalAt, long.MinValue));
            }
            else
            {
                result = new CelUnary(at, op, Unary());
            }

            _depth--;
            return result;
        }

        return Postfix(Primary());
    }

    // Member = Primary | Member "." SELECTOR ["(" [ExprList] ")"] | Member "[" Expr "]"
    private CelExpr Postfix(CelExpr operand)
    {
        var levels = 0;
        while (true)
        {
            if (IsPunct("."))
            {
                var at = _token.Position;
                Advance();
                if (_token.Kind != CelTokenKind.Identifier)
                {
                    throw _lexer.Error(_token.Position, _token.Kind == CelTokenKind.End ? "mismatched input '<EOF>' expecting IDENTIFIER" : $"mismatched input '{_token.Text}' expecting IDENTIFIER");
                }

                var name = _token.Text;
                CheckNotReserved(name, _token.Position, allowIn: false);
                Advance();
                if (IsPunct("("))
                {
                    Advance();
                    var args = Arguments();
                    operand = Receiver(at, operand, name, args);
                }
                else
                {
                    operand = new CelSelect(at, operand, name, TestOnly: false);
                }
            }
            else if (IsPunct("["))
            {
                var at = _token.Position;
                Advance();
                var index = Expression();
                Expect("]");
                operand = new CelIndex(at, operand, index);
            }
            else
            {
                _depth -= levels;
                return operand;
            }

            // A long chain a.b.c… is iterative here but nests in the tree the evaluator walks.
            levels++;
            Enter();
        }
    }

    private CelExpr Primary()
    {
        var token = _token;
        switch (token.Kind)
        {
            case CelTokenKind.Int:
                Advance();
                var magnitude = (ulong)token.Value!;
                if (magnitude > long.MaxValue)
                {
                    throw _lexer.Error(token.Position, "integer literal out of range");
                }

                return new CelLiteral(token.Position, (long)magnitude);
            case CelTokenKind.Uint:
                Advance();
                return new CelLiteral(token.Position, (ulong)token.Value!);
            case CelTokenKind.Double or CelTokenKind.String or CelTokenKind.Bytes:
                Advance();
                return new CelLiteral(token.Position, token.Value!);
            case CelTokenKind.Identifier:
                return IdentifierOrCall();
            case CelTokenKind.Punctuation when token.Text == "(":
                {
                    Advance();
                    var inner = Expression();
                    Expect(")");
                    return inner;
                }

            case CelTokenKind.Punctuation when token.Text == "[":
                {
                    Advance();
                    Enter();
                    var elements = new List<CelExpr>();
                    while (!IsPunct("]"))
                    {
                        elements.Add(Expression());
                        if (!Accept(","))
                        {
                            break;
                        }
                    }

                    Expect("]");
                    _depth--;
                    return new CelListLiteral(token.Position, elements);
                }

            case CelTokenKind.Punctuation when token.Text == "{":
                {
                    Advance();
                    Enter();
                    var entries = new List<(CelExpr, CelExpr)>();
                    while (!IsPunct("}"))
                    {
                        var key = Expression();
                        Expect(":");
                        entries.Add((key, Expression()));
                        if (!Accept(","))
                        {
                            break;
                        }
                    }

                    Expect("}");
                    _depth--;
                    return new CelMapLiteral(token.Position, entries);
                }

            case CelTokenKind.Punctuation when token.Text == ".":
                throw _lexer.Error(token.Position, "qualified (leading '.') identifiers are not supported");
            default:
                throw Unexpected();
        }
    }

    private CelExpr IdentifierOrCall()
    {
        var token = _token;
        switch (token.Text)
        {
            case "true":
                Advance();
                return new CelLiteral(token.Position, true);
            case "false":
                Advance();
                return new CelLiteral(token.Position, false);
            case "null":
                Advance();
                return new CelLiteral(token.Position, CelNull.Instance);
        }

        CheckNotReserved(token.Text, token.Position, allowIn: false);
        Advance();
        if (IsPunct("{"))
        {
            throw _lexer.Error(_token.Position, "message construction is not supported");
        }

        if (!IsPunct("("))
        {
            return new CelIdent(token.Position, token.Text);
        }

        Advance();
        var args = Arguments();
        if (token.Text == "has")
        {
            // has(e.f): the presence test. Its argument must be a field selection (cel-spec "Macros").
            if (args.Count != 1 || args[0] is not CelSelect select)
            {
                throw _lexer.Error(token.Position, "invalid argument to has() macro");
            }

            return select with { TestOnly = true };
        }

        return new CelCall(token.Position, token.Text, null, args);
    }

    private List<CelExpr> Arguments()
    {
        Enter();
        var args = new List<CelExpr>();
        while (!IsPunct(")"))
        {
            args.Add(Expression());
            if (!Accept(","))
            {
                break;
            }
        }

        Expect(")");
        _depth--;
        return args;
    }

    private CelExpr Receiver(int at, CelExpr target, string name, List<CelExpr> args)
    {
        CelMacro? macro = name switch
        {
            "all" => CelMacro.All,
            "exists" => CelMacro.Exists,
            "exists_one" => CelMacro.ExistsOne,
            "map" => CelMacro.Map,
            "filter" => CelMacro.Filter,
            _ => null,
        };
        if (macro is not { } m)
        {
            return new CelCall(at, name, target, args);
        }

        var arity = args.Count;
        var ok = m == CelMacro.Map ? arity is 2 or 3 : arity == 2;
        if (!ok || args[0] is not CelIdent variable)
        {
            throw _lexer.Error(at, $"invalid arguments to {name}() macro: expected an iteration variable and {(m == CelMacro.Map ? "a transform (optionally preceded by a filter)" : "a predicate")}");
        }

        return m == CelMacro.Map
            ? new CelComprehension(at, m, target, variable.Name, arity == 3 ? args[1] : null, args[^1])
            : new CelComprehension(at, m, target, variable.Name, args[1], null);
    }

    private void CheckNotReserved(string name, int position, bool allowIn)
    {
        if (Reserved.Contains(name) || (!allowIn && name == "in"))
        {
            throw _lexer.Error(position, $"reserved identifier: {name}");
        }
    }
}
