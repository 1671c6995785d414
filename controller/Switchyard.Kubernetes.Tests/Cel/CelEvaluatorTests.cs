using System.Text.Json.Nodes;
using Switchyard.Kubernetes.DevApiServer.Cel;

namespace Switchyard.Kubernetes.Tests.Cel;

public sealed class CelEvaluatorTests
{
    // self for the rows below: an object with properties (a CEL object), a map, lists and scalars typed by the schema.
    private const string Schema = """
        {"type": "object", "properties": {
          "name": {"type": "string"}, "count": {"type": "integer"}, "ratio": {"type": "number"},
          "namespace": {"type": "string"}, "on": {"type": "boolean"}, "timeout": {"type": "string"},
          "tags": {"type": "array", "items": {"type": "string"}},
          "refs": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
          "labels": {"type": "object", "additionalProperties": {"type": "string"}},
          "dash-name": {"type": "string"}, "ratio2": {"type": "number"}
        }}
        """;

    private const string Self = """
        {"name": "web", "count": 3, "ratio": 0.5, "namespace": "prod", "on": true, "timeout": "1m30s",
         "tags": ["a", "b", "c"], "refs": [{"name": "x", "port": 80}, {"name": "y"}],
         "labels": {"app": "demo", "k8s.io/x": "1"}, "dash-name": "d", "ratio2": 2}
        """;

    private static object Eval(string expression, string self = Self, string? old = null, long budget = 1_000_000)
    {
        var schema = (JsonObject)JsonNode.Parse(Schema)!;
        var program = CelProgram.Compile(expression);
        var oldSelf = old is null ? null : CelValues.FromJson(JsonNode.Parse(old), schema);
        return program.Evaluate(CelValues.FromJson(JsonNode.Parse(self), schema), oldSelf, new CelBudget(budget));
    }

    [Theory]
    // Literals and arithmetic.
    [InlineData("1 + 2 * 3 == 7")]
    [InlineData("7 / 2 == 3 && 7 % 2 == 1 && -7 / 2 == -3")]
    [InlineData("1.5 * 2.0 == 3.0")]
    [InlineData("3u + 4u == 7u")]
    [InlineData("1 == 1.0 && 1u == 1 && 2 > 1.5 && 1u < 2")] // heterogeneous numeric equality and ordering
    [InlineData("'ab' + 'c' == 'abc'")]
    [InlineData("b'ab' + b'c' == b'abc'")]
    [InlineData("[1, 2] + [3] == [1, 2, 3]")]
    [InlineData("'a' < 'b' && 'é' > 'z' && false < true")]
    [InlineData("null == null && self.name != null")]
    [InlineData("0x10 == 16 && -(-3) == 3 && !!true")]
    // Ternary and logic.
    [InlineData("self.count > 2 ? true : false")]
    [InlineData("self.on && !false || false")]
    // Member access, index, escaped names, has().
    [InlineData("self.name == 'web' && self.count == 3 && self.ratio == 0.5 && self.ratio2 == 2.0")]
    [InlineData("self.__namespace__ == 'prod'")]
    [InlineData("self.dash__dash__name == 'd'")]
    [InlineData("self.tags[1] == 'b' && self.refs[0].port == 80")]
    [InlineData("has(self.name) && !has(self.refs[1].port) && has(self.labels.app) && !has(self.labels.nope)")]
    [InlineData("self.labels['k8s.io/x'] == '1' && self.labels.app == 'demo'")]
    [InlineData("'app' in self.labels && 'b' in self.tags && !('z' in self.tags) && 2 in [1, 2]")]
    [InlineData("{'a': 1}['a'] == 1 && {'a': 1, 'b': 2} == {'b': 2, 'a': 1}")]
    // Macros.
    [InlineData("self.tags.all(t, t.size() == 1)")]
    [InlineData("self.tags.exists(t, t == 'c') && !self.tags.exists(t, t == 'z')")]
    [InlineData("self.tags.exists_one(t, t == 'a') && !self.tags.exists_one(t, t != 'a')")]
    [InlineData("self.tags.map(t, t + t) == ['aa', 'bb', 'cc']")]
    [InlineData("self.tags.map(t, t != 'b', t) == ['a', 'c']")]
    [InlineData("self.tags.filter(t, t > 'a') == ['b', 'c']")]
    [InlineData("self.labels.all(k, k.size() > 2)")]
    [InlineData("self.refs.all(r1, self.refs.exists_one(r2, r1.name == r2.name))")]
    [InlineData("[].all(x, x > 0) && ![].exists(x, true)")]
    // Functions.
    [InlineData("size(self.tags) == 3 && self.tags.size() == 3 && size('héllo') == 5 && size(bytes('héllo')) == 6")]
    [InlineData("self.name.startsWith('w') && self.name.endsWith('eb') && self.name.contains('e')")]
    [InlineData("self.name.matches('^w[a-z]+$') && matches(self.name, 'e') && !'web\\n'.matches('^web$')")]
    [InlineData("'Aa-Z'.lowerAscii() == 'aa-z' && 'aB'.upperAscii() == 'AB'")]
    [InlineData("'a/b/c'.split('/') == ['a', 'b', 'c'] && 'a/b/c'.split('/', 2) == ['a', 'b/c'] && ['a', 'b'].join('-') == 'a-b'")]
    [InlineData("'*.example.com'.substring(2) == 'example.com' && 'hello'.substring(1, 3) == 'el'")]
    [InlineData("'hello'.indexOf('l') == 2 && 'hello'.lastIndexOf('l') == 3 && ' x '.trim() == 'x' && 'aaa'.replace('a', 'b', 2) == 'bba'")]
    [InlineData("string(12) == '12' && int('-5') == -5 && uint(3) == 3u && double(1) == 1.0 && string(b'hi') == 'hi'")]
    [InlineData("duration(self.timeout) == duration('90s') && duration('1h') > duration('59m') && duration('0s') == duration('0')")]
    [InlineData("duration('1.5s') + duration('500ms') == duration('2s') && duration('2h').getHours() == 2")]
    [InlineData("isIP('10.0.0.1') && isIP('::1') && !isIP('010.0.0.1') && !isIP('example.com') && !isIP('::ffff:1.2.3.4') && !isIP('fe80::1%eth0')")]
    [InlineData("'\\u0000'.size() == 1 && 'a\\u0000'.contains('\\u0000')")]
    [InlineData("r'\\d'.size() == 2 && '''multi\nline'''.contains('\\n')")]
    [InlineData("'ABC'.matches(r\"\"\"^(?i)[a-c]+$\"\"\")")]
    // Error absorption: the other operand decides.
    [InlineData("!(false && self.nope == 1)")]
    [InlineData("self.nope == 1 && false ? false : true")]
    [InlineData("true || self.nope == 1")]
    [InlineData("self.nope == 1 || true")]
    [InlineData("self.refs.exists(r, r.port == 80)")] // refs[1] has no port: an error absorbed by the true element
    [InlineData("!self.refs.all(r, r.port == 443)")] // refs[0] is false: decides despite refs[1]'s error
    public void Expression_EvaluatesToTrue(string expression)
    {
        Assert.Equal(true, Eval(expression));
    }

    [Theory]
    [InlineData("self.nope", "no such key: nope")]
    [InlineData("self.labels.nope", "no such key: nope")]
    [InlineData("self.tags[5]", "index out of bounds: 5")]
    [InlineData("1 / 0", "division by zero")]
    [InlineData("1 % 0", "modulus by zero")]
    [InlineData("9223372036854775807 + 1", "overflow")]
    [InlineData("-9223372036854775808 - 1", "overflow")]
    [InlineData("1 + 'a'", "no such overload")]
    [InlineData("self.count.startsWith('a')", "no such overload")]
    [InlineData("self.refs.all(r, r.port == 80)", "no such key: port")] // no element is false: the error stands
    [InlineData("self.refs.exists_one(r, r.port == 80)", "no such key: port")]
    [InlineData("int('x')", "type conversion error")]
    [InlineData("duration(self.name)", "type conversion error")]
    [InlineData("'abc'.substring(5)", "index out of range")]
    [InlineData("'a'.matches(self.name + '(')", "invalid regular expression")]
    [InlineData("self.count ? 1 : 2", "no such overload")]
    public void Expression_FailsWithCelRuntimeError(string expression, string message)
    {
        var ex = Assert.Throws<CelEvaluationException>(() => Eval(expression));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OldSelf_IsBoundForTransitionRules()
    {
        var program = CelProgram.Compile("self.name == oldSelf.name");
        Assert.True(program.UsesOldSelf);
        Assert.False(CelProgram.Compile("self.name == 'x'").UsesOldSelf);
        Assert.Equal(true, Eval("self.name == oldSelf.name", old: Self));
        Assert.Equal(false, Eval("self.name == oldSelf.name", old: """{"name": "other"}"""));
        Assert.Equal(true, Eval("self == oldSelf", old: Self));
    }

    [Theory]
    [InlineData("nosuch(self)", "undeclared reference to 'nosuch'")]
    [InlineData("self.quantity()", "undeclared reference to 'quantity'")]
    [InlineData("other.name == 'x'", "undeclared reference to 'other'")]
    [InlineData("self.all(x, y > 0)", "undeclared reference to 'y'")]
    [InlineData("size(self, 1)", "no matching overload")]
    [InlineData("self.startsWith()", "no matching overload")]
    [InlineData("startsWith(self, 'a')", "no matching overload")]
    [InlineData("self.matches('(')", "invalid regular expression")]
    [InlineData("duration('forever') > duration('1s')", "invalid duration")]
    public void UnknownNamesAndFunctions_AreCompileErrors(string expression, string message)
    {
        var ex = Assert.Throws<CelCompileException>(() => CelProgram.Compile(expression));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HostileExpression_StopsAtTheBudget()
    {
        // 10^3 * 10^3 * 10^3 iterations would take far longer than any request should.
        var list = "[" + string.Join(",", Enumerable.Range(0, 1000)) + "]";
        var started = DateTime.UtcNow;
        Assert.Throws<CelCostLimitException>(() => Eval($"{list}.all(a, {list}.all(b, {list}.all(c, a + b + c >= 0)))", budget: 200_000));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void CatastrophicRegex_IsLinearTime()
    {
        // (a+)+$ backtracks exponentially on a backtracking engine; RE2 semantics (and the non-backtracking engine) do not.
        var started = DateTime.UtcNow;
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(false, Eval($"'{new string('a', 1000 + i)}!'.matches('^(a+)+$')"));
            Assert.Equal(true, Eval($"'{new string('a', 1000 + i)}'.matches('^(a+)+$')"));
        }

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3), $"took {DateTime.UtcNow - started}");
    }

    [Fact]
    public void RandomWellFormedExpressions_EvaluateToAValueOrACelError_NeverACrash()
    {
        // Property: any expression the parser accepts evaluates to a value or fails with a CEL error (runtime error or
        // budget), whatever types meet at its operators. Seeded, and bounded in time.
        var rng = new Random(5);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        int values = 0, errors = 0;
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(2))
        {
            var expression = RandomExpression(rng, rng.Next(1, 4), inMacro: false);
            try
            {
                Eval(expression, budget: 20_000);
                values++;
            }
            catch (CelException)
            {
                errors++;
            }
            catch (Exception ex)
            {
                Assert.Fail($"{expression}: {ex.GetType().Name}: {ex.Message}");
            }
        }

        Assert.True(values > 20 && errors > 20, $"{values} values, {errors} errors: the generator does not exercise both outcomes");
    }

    private static readonly string[] Atoms =
    [
        "self", "self.name", "self.count", "self.ratio", "self.tags", "self.refs", "self.labels", "self.on", "self.timeout",
        "self.refs[0]", "1", "-1", "0", "2u", "1.5", "'a'", "'/x/y'", "b'x'", "true", "null", "[]", "[1, 'a']", "{'a': 1}",
        "duration('1s')", "9223372036854775807",
    ];

    private static readonly string[] BinaryOps = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in"];

    private static readonly string[] Calls =
    [
        ".size()", ".startsWith('a')", ".endsWith('/')", ".contains('a')", ".matches('^[a-z]+$')", ".split('/')", ".join('-')",
        ".substring(1)", ".lowerAscii()", ".indexOf('a')", ".replace('a', 'b')", ".getSeconds()",
    ];

    private static string RandomExpression(Random rng, int depth, bool inMacro)
    {
        if (depth == 0)
        {
            return inMacro && rng.Next(3) == 0 ? "v" : Atoms[rng.Next(Atoms.Length)];
        }

        var a = RandomExpression(rng, depth - 1, inMacro);
        return rng.Next(12) switch
        {
            0 => $"!{a}",
            1 => $"-{a}",
            2 => $"({a} {BinaryOps[rng.Next(BinaryOps.Length)]} {RandomExpression(rng, depth - 1, inMacro)})",
            3 => $"({a} ? {RandomExpression(rng, depth - 1, inMacro)} : {RandomExpression(rng, depth - 1, inMacro)})",
            4 => $"{a}[{RandomExpression(rng, depth - 1, inMacro)}]",
            5 => $"{a}.name",
            6 => $"has({a}.name)",
            7 => $"{a}{Calls[rng.Next(Calls.Length)]}",
            8 => $"{new[] { "size", "int", "uint", "double", "string", "bytes", "bool", "duration", "isIP", "dyn" }[rng.Next(10)]}({a})",
            9 => $"{a}.{new[] { "all", "exists", "exists_one", "filter" }[rng.Next(4)]}(v, {RandomExpression(rng, depth - 1, inMacro)})",
            10 => $"{a}.map(v, {RandomExpression(rng, depth - 1, inMacro)})",
            _ => $"[{a}, {RandomExpression(rng, depth - 1, inMacro)}]",
        };
    }
}
