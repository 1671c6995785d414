using System.Globalization;
using System.Text;

namespace Switchyard.Kubernetes.DevApiServer.Cel;

/// <summary>The kinds of CEL tokens (cel-spec <c>doc/langdef.md</c>, "Syntax", lexical rules).</summary>
internal enum CelTokenKind
{
    End,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Identifier,
    Punctuation,
}

/// <summary>One token. <see cref="Value"/> is the literal's value (an <c>Int</c> holds its magnitude as <see cref="ulong"/>).</summary>
internal readonly record struct CelToken(CelTokenKind Kind, string Text, object? Value, int Position);

/// <summary>
/// Splits a CEL expression into tokens. Follows the lexical grammar of cel-spec: decimal and hex integers with an
/// optional <c>u</c> suffix, doubles, quoted strings in all four quotings with the raw (<c>r</c>) and bytes (<c>b</c>)
/// prefixes and the full escape set, identifiers, and punctuation. Works on the expression string only, so its memory
/// is bounded by the expression's length.
/// </summary>
internal sealed class CelLexer(string source)
{
    private int _pos;

    /// <summary>Reads the next token, or <see cref="CelTokenKind.End"/> at the end of input.</summary>
    /// <exception cref="CelSyntaxException">The text at the current position is not a CEL token.</exception>
    public CelToken Next()
    {
        SkipSpaceAndComments();
        if (_pos >= source.Length)
        {
            return new CelToken(CelTokenKind.End, "", null, _pos);
        }

        var start = _pos;
        var c = source[_pos];
        if (char.IsAsciiDigit(c))
        {
            return Number(start);
        }

        if (c is '\'' or '"')
        {
            return Quoted(start, raw: false, bytes: false);
        }

        if (IsIdentStart(c))
        {
            // A string prefix is one or two of r/R and b/B directly followed by a quote.
            var p = _pos;
            bool raw = false, bytes = false;
            while (p < source.Length && p - _pos < 2 && source[p] is 'r' or 'R' or 'b' or 'B')
            {
                var isRaw = source[p] is 'r' or 'R';
                if ((isRaw && raw) || (!isRaw && bytes))
                {
                    break;
                }

                raw |= isRaw;
                bytes |= !isRaw;
                p++;
            }

            if (p > _pos && p < source.Length && source[p] is '\'' or '"')
            {
                _pos = p;
                return Quoted(start, raw, bytes);
            }

            while (_pos < source.Length && (IsIdentStart(source[_pos]) || char.IsAsciiDigit(source[_pos])))
            {
                _pos++;
            }

            return new CelToken(CelTokenKind.Identifier, source[start.._pos], null, start);
        }

        foreach (var op in Operators)
        {
            if (string.CompareOrdinal(source, _pos, op, 0, op.Length) == 0)
            {
                _pos += op.Length;
                return new CelToken(CelTokenKind.Punctuation, op, null, start);
            }
        }

        throw Error(start, $"token recognition error at: '{Printable(c)}'");
    }

    private static readonly string[] Operators =
        ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}"];

    private static bool IsIdentStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static string Printable(char c) => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString();

    private void SkipSpaceAndComments()
    {
        while (_pos < source.Length)
        {
            var c = source[_pos];
            if (c is ' ' or '\t' or '\n' or '\r' or '\f')
            {
                _pos++;
            }
            else if (c == '/' && _pos + 1 < source.Length && source[_pos + 1] == '/')
            {
                while (_pos < source.Length && source[_pos] != '\n')
                {
                    _pos++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private CelToken Number(int start)
    {
        if (source[_pos] == '0' && _pos + 1 < source.Length && source[_pos + 1] is 'x' or 'X')
        {
            _pos += 2;
            var digitsStart = _pos;
            while (_pos < source.Length && char.IsAsciiHexDigit(source[_pos]))
            {
                _pos++;
            }

            if (_pos == digitsStart)
            {
                throw Error(start, "invalid hex literal");
            }

            if (!ulong.TryParse(source.AsSpan(digitsStart, _pos - digitsStart), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
            {
                throw Error(start, "integer literal out of range");
            }

            return IntegerToken(start, hex);
        }

        while (_pos < source.Length && char.IsAsciiDigit(source[_pos]))
        {
            _pos++;
        }

        var isDouble = false;
        if (_pos + 1 < source.Length && source[_pos] == '.' && char.IsAsciiDigit(source[_pos + 1]))
        {
            isDouble = true;
            _pos++;
            while (_pos < source.Length && char.IsAsciiDigit(source[_pos]))
            {
                _pos++;
            }
        }

        if (_pos < source.Length && source[_pos] is 'e' or 'E')
        {
            var p = _pos + 1;
            if (p < source.Length && source[p] is '+' or '-')
            {
                p++;
            }

            if (p < source.Length && char.IsAsciiDigit(source[p]))
            {
                isDouble = true;
                _pos = p;
                while (_pos < source.Length && char.IsAsciiDigit(source[_pos]))
                {
                    _pos++;
                }
            }
        }

        var text = source[start.._pos];
        if (isDouble)
        {
            return new CelToken(CelTokenKind.Double, text, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture), start);
        }

        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            throw Error(start, "integer literal out of range");
        }

        return IntegerToken(start, value);
    }

    private CelToken IntegerToken(int start, ulong magnitude)
    {
        if (_pos < source.Length && source[_pos] is 'u' or 'U')
        {
            _pos++;
            return new CelToken(CelTokenKind.Uint, source[start.._pos], magnitude, start);
        }

        // The magnitude may be 2^63 only under a unary minus; the parser checks.
        if (magnitude > (ulong)long.MaxValue + 1)
        {
            throw Error(start, "integer literal out of range");
        }

        return new CelToken(CelTokenKind.Int, source[start.._pos], magnitude, start);
    }

    private CelToken Quoted(int start, bool raw, bool bytes)
    {
        var quote = source[_pos];
        var triple = _pos + 2 < source.Length && source[_pos + 1] == quote && source[_pos + 2] == quote;
        _pos += triple ? 3 : 1;
        var text = new StringBuilder();
        var data = bytes ? new List<byte>() : null;
        while (true)
        {
            if (_pos >= source.Length)
            {
                throw Error(start, "unterminated string literal");
            }

            var c = source[_pos];
            if (c == quote && (!triple || (_pos + 2 < source.Length && source[_pos + 1] == quote && source[_pos + 2] == quote)))
            {
                _pos += triple ? 3 : 1;
                break;
            }

            if (!triple && c is '\n' or '\r')
            {
                throw Error(_pos, "newline in single-line string literal");
            }

            if (c == '\\' && !raw)
            {
                Escape(text, data);
                continue;
            }

            if (char.IsHighSurrogate(c) && _pos + 1 < source.Length && char.IsLowSurrogate(source[_pos + 1]))
            {
                Append(text, data, new Rune(c, source[_pos + 1]));
                _pos += 2;
                continue;
            }

            Append(text, data, Rune.IsValid(c) ? new Rune(c) : Rune.ReplacementChar);
            _pos++;
        }

        var literal = source[start.._pos];
        return data is not null
            ? new CelToken(CelTokenKind.Bytes, literal, new CelBytes([.. data]), start)
            : new CelToken(CelTokenKind.String, literal, text.ToString(), start);
    }

    private static void Append(StringBuilder text, List<byte>? data, Rune rune)
    {
        if (data is null)
        {
            text.Append(rune.ToString());
            return;
        }

        Span<byte> utf8 = stackalloc byte[4];
        var n = rune.EncodeToUtf8(utf8);
        for (var i = 0; i < n; i++)
        {
            data.Add(utf8[i]);
        }
    }

    private void Escape(StringBuilder text, List<byte>? data)
    {
        var at = _pos;
        if (_pos + 1 >= source.Length)
        {
            throw Error(at, "unterminated escape sequence");
        }

        var e = source[_pos + 1];
        _pos += 2;
        char? simple = e switch
        {
            'a' => '\a', 'b' => '\b', 'f' => '\f', 'n' => '\n', 'r' => '\r', 't' => '\t', 'v' => '\v',
            '\\' => '\\', '\'' => '\'', '"' => '"', '`' => '`', '?' => '?',
            _ => null,
        };
        if (simple is { } s)
        {
            Append(text, data, new Rune(s));
            return;
        }

        switch (e)
        {
            case 'x' or 'X':
                {
                    var v = Hex(at, 2);
                    if (data is not null)
                    {
                        data.Add((byte)v);
                    }
                    else
                    {
                        text.Append((char)v);
                    }

                    return;
                }

            case 'u' or 'U':
                {
                    if (data is not null)
                    {
                        throw Error(at, "\\u and \\U escapes are not allowed in bytes literals");
                    }

                    var v = Hex(at, e == 'u' ? 4 : 8);
                    if (!Rune.IsValid(v))
                    {
                        throw Error(at, "escape sequence is not a valid Unicode code point");
                    }

                    text.Append(new Rune(v).ToString());
                    return;
                }

            case >= '0' and <= '3':
                {
                    if (_pos + 1 >= source.Length || source[_pos] is < '0' or > '7' || source[_pos + 1] is < '0' or > '7')
                    {
                        throw Error(at, "invalid octal escape sequence");
                    }

                    var v = ((e - '0') * 64) + ((source[_pos] - '0') * 8) + (source[_pos + 1] - '0');
                    _pos += 2;
                    if (data is not null)
                    {
                        data.Add((byte)v);
                    }
                    else
                    {
                        text.Append((char)v);
                    }

                    return;
                }

            default:
                throw Error(at, $"invalid escape sequence '\\{Printable(e)}'");
        }
    }

    private int Hex(int at, int digits)
    {
        if (_pos + digits > source.Length)
        {
            throw Error(at, "truncated hex escape sequence");
        }

        var v = 0L;
        for (var i = 0; i < digits; i++)
        {
            var d = source[_pos + i];
            if (!char.IsAsciiHexDigit(d))
            {
                throw Error(at, "invalid hex escape sequence");
            }

            v = (v * 16) + (char.IsAsciiDigit(d) ? d - '0' : (char.ToLowerInvariant(d) - 'a' + 10));
        }

        _pos += digits;
        return v > int.MaxValue ? -1 : (int)v;
    }

    /// <summary>A syntax error at <paramref name="position"/>, with cel-go's 1-based line and 0-based column.</summary>
    public CelSyntaxException Error(int position, string detail)
    {
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < position && i < source.Length; i++)
        {
            if (source[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return new CelSyntaxException(position, line, position - lineStart, detail);
    }
}
