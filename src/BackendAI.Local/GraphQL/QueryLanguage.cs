using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace BackendAI.Local.GraphQL;

/// <summary>How a filterable/orderable field compares.</summary>
internal enum FieldKind
{
    /// <summary>Text, compared ordinally.</summary>
    String,
    /// <summary>An enum given by name (case and <c>-</c>/<c>_</c> insensitive).</summary>
    Enum,
    /// <summary>An integer.</summary>
    Integer,
    /// <summary>A point in time (values are ISO strings).</summary>
    DateTime,
    /// <summary>A boolean.</summary>
    Boolean,
    /// <summary>A list of strings (<c>contains</c>, <c>in</c>).</summary>
    StringList,
}

/// <summary>A field the mini-languages may name.</summary>
/// <param name="Kind">How it compares.</param>
/// <param name="Get">Reads the value from an item (null allowed).</param>
/// <param name="Orderable">Whether <c>order</c> may name it.</param>
internal sealed record QueryField<T>(FieldKind Kind, Func<T, object?> Get, bool Orderable = true);

/// <summary>A malformed filter/order expression or an unknown field (reported as a GraphQL error).</summary>
internal sealed class QueryLanguageException(string message) : Exception(message);

/// <summary>
/// The <c>filter</c> and <c>order</c> mini-languages of paginated GraphQL lists (admin-graphql.md §8):
/// <c>==</c> <c>!=</c> <c>&lt;</c> <c>&gt;</c> <c>&lt;=</c> <c>&gt;=</c> <c>contains</c> <c>in</c> <c>is</c>
/// <c>isnot</c> <c>like</c> <c>ilike</c>, <c>&amp;</c> <c>|</c> <c>!</c> and parentheses; order is
/// <c>[+|-]field,…</c>.
/// </summary>
internal static class QueryLanguage
{
    /// <summary>Parses <paramref name="filter"/> into a predicate over <paramref name="fields"/>.</summary>
    public static Func<T, bool> ParseFilter<T>(string filter, IReadOnlyDictionary<string, QueryField<T>> fields)
    {
        var parser = new Parser<T>(Tokenize(filter), fields);
        var predicate = parser.ParseOr();
        parser.ExpectEnd();
        return predicate;
    }

    /// <summary>Parses <paramref name="order"/> into a comparison over <paramref name="fields"/>.</summary>
    public static Comparison<T> ParseOrder<T>(string order, IReadOnlyDictionary<string, QueryField<T>> fields)
    {
        var keys = new List<(QueryField<T> Field, bool Descending)>();
        foreach (var raw in order.Split(','))
        {
            var part = raw.Trim();
            if (part.Length == 0) throw new QueryLanguageException($"Invalid order expression: {order}");
            var descending = part[0] == '-';
            if (part[0] is '+' or '-') part = part[1..].Trim();
            if (!fields.TryGetValue(part, out var field) || !field.Orderable)
                throw new QueryLanguageException($"Invalid order field: {part}");
            keys.Add((field, descending));
        }
        return (a, b) =>
        {
            foreach (var (field, descending) in keys)
            {
                var c = CompareForOrder(field.Kind, field.Get(a), field.Get(b));
                if (c != 0) return descending ? -c : c;
            }
            return 0;
        };
    }

    /// <summary>Ascending order with nulls last (as PostgreSQL sorts).</summary>
    private static int CompareForOrder(FieldKind kind, object? x, object? y)
    {
        if (x is null) return y is null ? 0 : 1;
        if (y is null) return -1;
        return Compare(kind, x, y);
    }

    private static int Compare(FieldKind kind, object x, object y) => kind switch
    {
        FieldKind.Integer => Convert.ToInt64(x, CultureInfo.InvariantCulture).CompareTo(Convert.ToInt64(y, CultureInfo.InvariantCulture)),
        FieldKind.DateTime => ((DateTimeOffset)x).CompareTo((DateTimeOffset)y),
        FieldKind.Boolean => ((bool)x).CompareTo((bool)y),
        FieldKind.Enum => string.CompareOrdinal(NormalizeEnum(x.ToString()!), NormalizeEnum(y.ToString()!)),
        _ => string.CompareOrdinal(x.ToString(), y.ToString()),
    };

    private static string NormalizeEnum(string s) => s.Replace('-', '_').ToUpperInvariant();

    // ---- tokens ----

    private enum TokenKind { Name, String, Number, Symbol, End }

    private readonly record struct Token(TokenKind Kind, string Text, int Position);

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            var start = i;
            if (c == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length) throw new QueryLanguageException($"Unterminated string at position {start}");
                    var ch = text[i++];
                    if (ch == '"') break;
                    if (ch == '\\' && i < text.Length) ch = text[i++];
                    sb.Append(ch);
                }
                tokens.Add(new Token(TokenKind.String, sb.ToString(), start));
            }
            else if (char.IsDigit(c) || (c == '-' && i + 1 < text.Length && char.IsDigit(text[i + 1])))
            {
                i++;
                while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.')) i++;
                tokens.Add(new Token(TokenKind.Number, text[start..i], start));
            }
            else if (char.IsLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '.')) i++;
                tokens.Add(new Token(TokenKind.Name, text[start..i], start));
            }
            else
            {
                var two = i + 1 < text.Length ? text.Substring(i, 2) : "";
                if (two is "==" or "!=" or ">=" or "<=") { tokens.Add(new Token(TokenKind.Symbol, two, start)); i += 2; }
                else if ("<>!&|()[],".Contains(c)) { tokens.Add(new Token(TokenKind.Symbol, c.ToString(), start)); i++; }
                else throw new QueryLanguageException($"Unexpected character '{c}' at position {start}");
            }
        }
        tokens.Add(new Token(TokenKind.End, "", text.Length));
        return tokens;
    }

    // ---- parser ----

    private sealed class Parser<T>(List<Token> tokens, IReadOnlyDictionary<string, QueryField<T>> fields)
    {
        private static readonly HashSet<string> s_wordOperators = ["contains", "in", "is", "isnot", "like", "ilike"];
        private int _index;

        private Token Peek => tokens[_index];

        private Token Next() => tokens[_index++];

        private bool TrySymbol(string symbol)
        {
            if (Peek.Kind == TokenKind.Symbol && Peek.Text == symbol)
            {
                _index++;
                return true;
            }
            return false;
        }

        public void ExpectEnd()
        {
            if (Peek.Kind != TokenKind.End) throw Unexpected();
        }

        private QueryLanguageException Unexpected() =>
            new(Peek.Kind == TokenKind.End
                ? "Unexpected end of filter expression"
                : $"Unexpected token '{Peek.Text}' at position {Peek.Position} in the filter expression");

        public Func<T, bool> ParseOr()
        {
            var left = ParseAnd();
            while (TrySymbol("|"))
            {
                var l = left;
                var r = ParseAnd();
                left = item => l(item) || r(item);
            }
            return left;
        }

        private Func<T, bool> ParseAnd()
        {
            var left = ParseUnary();
            while (TrySymbol("&"))
            {
                var l = left;
                var r = ParseUnary();
                left = item => l(item) && r(item);
            }
            return left;
        }

        private Func<T, bool> ParseUnary()
        {
            if (TrySymbol("!"))
            {
                var inner = ParseUnary();
                return item => !inner(item);
            }
            if (TrySymbol("("))
            {
                var inner = ParseOr();
                if (!TrySymbol(")")) throw Unexpected();
                return inner;
            }
            return ParseComparison();
        }

        private Func<T, bool> ParseComparison()
        {
            if (Peek.Kind != TokenKind.Name) throw Unexpected();
            var name = Next().Text;
            if (!fields.TryGetValue(name, out var field)) throw new QueryLanguageException($"Unknown or unsupported filter field: {name}");
            string op;
            if (Peek.Kind == TokenKind.Symbol && Peek.Text is "==" or "!=" or "<" or ">" or "<=" or ">=") op = Next().Text;
            else if (Peek.Kind == TokenKind.Name && s_wordOperators.Contains(Peek.Text)) op = Next().Text;
            else throw Unexpected();
            var value = ParseValue();
            return Build(name, field, op, value);
        }

        private object? ParseValue()
        {
            var t = Next();
            switch (t.Kind)
            {
                case TokenKind.String: return t.Text;
                case TokenKind.Number:
                    return long.TryParse(t.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
                        ? (object)l : double.Parse(t.Text, CultureInfo.InvariantCulture);
                case TokenKind.Name when t.Text == "null": return null;
                case TokenKind.Name when t.Text == "true": return true;
                case TokenKind.Name when t.Text == "false": return false;
                case TokenKind.Symbol when t.Text == "[":
                    var list = new List<object?>();
                    if (TrySymbol("]")) return list;
                    do list.Add(ParseValue()); while (TrySymbol(","));
                    if (!TrySymbol("]")) throw Unexpected();
                    return list;
                default:
                    _index--;
                    throw Unexpected();
            }
        }

        private static Func<T, bool> Build(string name, QueryField<T> field, string op, object? value)
        {
            var get = field.Get;
            switch (op)
            {
                case "is" or "isnot":
                    if (value is not null) throw new QueryLanguageException($"'{op}' needs null on field {name}");
                    return op == "is" ? item => get(item) is null : item => get(item) is not null;
                case "==" or "!=" when value is null:
                    return op == "==" ? item => get(item) is null : item => get(item) is not null;
                case "in":
                    if (value is not List<object?> options) throw new QueryLanguageException($"'in' needs a list on field {name}");
                    var converted = options.Select(o => Convert(name, field.Kind, o)).ToList();
                    return item => get(item) is { } v && converted.Any(o => o is not null && Equal(field.Kind, v, o));
                case "contains":
                    if (field.Kind == FieldKind.StringList)
                    {
                        var needle = value as string ?? throw new QueryLanguageException($"'contains' needs a string on field {name}");
                        return item => get(item) is IEnumerable<string> list && list.Contains(needle);
                    }
                    if (field.Kind is not (FieldKind.String or FieldKind.Enum)) throw new QueryLanguageException($"'contains' is not supported on field {name}");
                    var part = value as string ?? throw new QueryLanguageException($"'contains' needs a string on field {name}");
                    return item => get(item) is string s && s.Contains(part, StringComparison.Ordinal);
                case "like" or "ilike":
                    if (field.Kind is not (FieldKind.String or FieldKind.Enum)) throw new QueryLanguageException($"'{op}' is not supported on field {name}");
                    var pattern = value as string ?? throw new QueryLanguageException($"'{op}' needs a string on field {name}");
                    var regex = LikeToRegex(pattern, op == "ilike");
                    return item => get(item) is string s && regex.IsMatch(s);
            }
            if (field.Kind == FieldKind.StringList) throw new QueryLanguageException($"'{op}' is not supported on field {name}");
            var operand = Convert(name, field.Kind, value)!;
            return op switch
            {
                "==" => item => get(item) is { } v && Equal(field.Kind, v, operand),
                "!=" => item => get(item) is not { } v || !Equal(field.Kind, v, operand),
                "<" => item => get(item) is { } v && Compare(field.Kind, v, operand) < 0,
                ">" => item => get(item) is { } v && Compare(field.Kind, v, operand) > 0,
                "<=" => item => get(item) is { } v && Compare(field.Kind, v, operand) <= 0,
                _ => item => get(item) is { } v && Compare(field.Kind, v, operand) >= 0,
            };
        }

        private static bool Equal(FieldKind kind, object a, object b) => Compare(kind, a, b) == 0;

        private static object? Convert(string name, FieldKind kind, object? value)
        {
            if (value is null) return null;
            switch (kind)
            {
                case FieldKind.Integer when value is long:
                    return value;
                case FieldKind.Boolean when value is bool:
                    return value;
                case FieldKind.DateTime when value is string s:
                    if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) return t;
                    throw new QueryLanguageException($"Invalid datetime value for field {name}: {s}");
                case FieldKind.String or FieldKind.Enum when value is string:
                    return value;
                default:
                    throw new QueryLanguageException($"Invalid value type for field {name}");
            }
        }
    }

    private static Regex LikeToRegex(string pattern, bool ignoreCase)
    {
        var sb = new StringBuilder("^");
        foreach (var ch in pattern)
        {
            sb.Append(ch switch
            {
                '%' => ".*",
                '_' => ".",
                _ => Regex.Escape(ch.ToString()),
            });
        }
        sb.Append('$');
        return new Regex(sb.ToString(), RegexOptions.Singleline | RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None),
            TimeSpan.FromSeconds(1));
    }
}
