using System.Diagnostics;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Switchyard.Kubernetes.DevApiServer.Cel;

namespace Switchyard.Kubernetes.Tests.Cel;

public sealed class CelParserTests
{
    [Theory]
    // Literals of every kind, including escapes and the raw/bytes/triple-quoted spellings.
    [InlineData("1", typeof(CelLiteral))]
    [InlineData("0x1F", typeof(CelLiteral))]
    [InlineData("42u", typeof(CelLiteral))]
    [InlineData("1.5e3", typeof(CelLiteral))]
    [InlineData("'a\\u0000b'", typeof(CelLiteral))]
    [InlineData("r\"\"\"^(\\*\\.)?[a-z]$\"\"\"", typeof(CelLiteral))]
    [InlineData("b'\\xff\\000'", typeof(CelLiteral))]
    [InlineData("null", typeof(CelLiteral))]
    [InlineData("-9223372036854775808", typeof(CelLiteral))]
    // Names, selection, index, calls in both styles.
    [InlineData("self", typeof(CelIdent))]
    [InlineData("self.a.__namespace__", typeof(CelSelect))]
    [InlineData("self[0]", typeof(CelIndex))]
    [InlineData("size(self)", typeof(CelCall))]
    [InlineData("self.startsWith('/')", typeof(CelCall))]
    // Operators, ternary, in, list and map literals.
    [InlineData("!a", typeof(CelUnary))]
    [InlineData("1 + 2 * 3", typeof(CelBinary))]
    [InlineData("a ? b : c ? d : e", typeof(CelConditional))]
    [InlineData("'x' in ['x', 'y',]", typeof(CelBinary))]
    [InlineData("{'a': 1, 'b': 2}", typeof(CelMapLiteral))]
    // Macros.
    [InlineData("has(self.a)", typeof(CelSelect))]
    [InlineData("self.all(x, x > 0)", typeof(CelComprehension))]
    [InlineData("self.map(x, x > 0, x * 2)", typeof(CelComprehension))]
    public void ValidExpression_ParsesToExpectedRoot(string source, Type rootType)
    {
        Assert.IsType(rootType, CelParser.Parse(source));
    }

    [Fact]
    public void Literals_HaveCelValues()
    {
        Assert.Equal("a\0b", ((CelLiteral)CelParser.Parse("'a\\u0000b'")).Value);
        Assert.Equal("x\\d", ((CelLiteral)CelParser.Parse("r'x\\d'")).Value);
        Assert.Equal("it's", ((CelLiteral)CelParser.Parse("'''it's'''")).Value);
        Assert.Equal(new CelBytes([0xff, 0x00, (byte)'a']), ((CelLiteral)CelParser.Parse("b'\\xff\\000a'")).Value);
        Assert.Equal(31L, ((CelLiteral)CelParser.Parse("0x1F")).Value);
        Assert.Equal(42UL, ((CelLiteral)CelParser.Parse("42u")).Value);
        Assert.Equal(long.MinValue, ((CelLiteral)CelParser.Parse("-9223372036854775808")).Value);
        Assert.Equal("é", ((CelLiteral)CelParser.Parse("'\\u00e9'")).Value);
        Assert.Equal("\U0001F600", ((CelLiteral)CelParser.Parse("'\\U0001F600'")).Value);
    }

    [Fact]
    public void Precedence_FollowsTheGrammar()
    {
        // 1 + 2 * 3 == 7 || false  parses as ((1 + (2 * 3)) == 7) || false
        var or = Assert.IsType<CelBinary>(CelParser.Parse("1 + 2 * 3 == 7 || false"));
        Assert.Equal("||", or.Op);
        var eq = Assert.IsType<CelBinary>(or.Left);
        Assert.Equal("==", eq.Op);
        var plus = Assert.IsType<CelBinary>(eq.Left);
        Assert.Equal("+", plus.Op);
        Assert.Equal("*", Assert.IsType<CelBinary>(plus.Right).Op);
    }

    [Theory]
    [InlineData("1 +", "unexpected end")]
    [InlineData("(1", "expecting ')'")]
    [InlineData("'abc", "unterminated string")]
    [InlineData("'a\\qb'", "invalid escape")]
    [InlineData("9223372036854775808", "out of range")]
    [InlineData("a.if", "reserved identifier")]
    [InlineData("has(a)", "has() macro")]
    [InlineData("a.all(1, true)", "all() macro")]
    [InlineData("a # b", "token recognition error")]
    [InlineData("Msg{a: 1}", "message construction")]
    [InlineData("b'\\u0041'", "not allowed in bytes")]
    [InlineData("1 2", "extraneous input")]
    public void InvalidExpression_ThrowsSyntaxErrorWithLocation(string source, string fragment)
    {
        var ex = Assert.Throws<CelSyntaxException>(() => CelParser.Parse(source));
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("ERROR: <input>:1:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeepNesting_IsASyntaxErrorNotAStackOverflow()
    {
        var ex = Assert.Throws<CelSyntaxException>(() => CelParser.Parse(new string('(', 100_000 - 1) + "1"));
        Assert.Contains("recursion limit", ex.Message, StringComparison.Ordinal);
        Assert.Throws<CelSyntaxException>(() => CelParser.Parse(new string('!', 5000) + "true"));
        Assert.Throws<CelSyntaxException>(() => CelParser.Parse("a" + string.Concat(Enumerable.Repeat(".b", 5000))));
        Assert.Throws<CelSyntaxException>(() => CelParser.Parse(new string('x', CelParser.MaxLength + 1)));
    }

    private static readonly string[] Fragments =
    [
        "self", "oldSelf", ".", "a", "__namespace__", "(", ")", "[", "]", "{", "}", ",", ":", "?", "!", "-", "+", "*", "/",
        "%", "==", "!=", "<", "<=", "&&", "||", " in ", "has(", "all(", "exists_one(", "map(", "filter(", "size(", "'x'",
        "\"\"\"", "r'", "b'", "'\\u0000'", "'\\x4", "\\", "1", "0x", "1.5e", "42u", "9223372036854775808", "true", "null",
        " ", "\n", "é", "\ud800", "#", "if", "x", "y",
    ];

    [Fact]
    public void RandomText_IsAnAstOrASyntaxError_NeverACrash()
    {
        // Property: for any text, Parse returns a tree or throws CelSyntaxException; then Compile returns a program or
        // throws a CelException. The loop runs for a fixed time so CI stays fast, and no single case may be slow.
        var total = Stopwatch.StartNew();
        var slowest = TimeSpan.Zero;
        var cases = 0;
        var parsed = 0;
        var rng = new Random(20261122);
        while (total.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            var sb = new StringBuilder();
            for (var n = rng.Next(1, 24); n > 0; n--)
            {
                sb.Append(rng.Next(5) == 0 ? ((char)rng.Next(0, 0x250)).ToString() : Fragments[rng.Next(Fragments.Length)]);
            }

            var one = Stopwatch.StartNew();
            if (TryParseAndCompile(sb.ToString()))
            {
                parsed++;
            }

            slowest = one.Elapsed > slowest ? one.Elapsed : slowest;
            cases++;
        }

        Assert.True(cases > 1000, $"only {cases} cases ran");
        Assert.True(parsed > 0, "no random case parsed: the generator is too hostile to exercise the parser");

        // The same property over FsCheck's arbitrary strings.
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), (string text) =>
        {
            var one = Stopwatch.StartNew();
            TryParseAndCompile(text ?? "");
            slowest = one.Elapsed > slowest ? one.Elapsed : slowest;
        }).QuickCheckThrowOnFailure();
        Assert.True(slowest < TimeSpan.FromSeconds(0.5), $"one case took {slowest}");
    }

    private static bool TryParseAndCompile(string text)
    {
        try
        {
            CelParser.Parse(text);
        }
        catch (CelSyntaxException ex)
        {
            Assert.InRange(ex.Position, 0, Math.Max(text.Length, CelParser.MaxLength));
            return false;
        }

        try
        {
            CelProgram.Compile(text);
        }
        catch (CelException)
        {
            // Undeclared names and unknown functions are compile errors: fine.
        }

        return true;
    }
}
