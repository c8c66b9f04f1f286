using System.Text;

namespace BackendAI.Cli.Parsing;

/// <summary>
/// <c>$NAME</c> / <c>${NAME}</c> substitution with <c>$$</c> for a literal dollar sign — the rules of
/// Python's <c>string.Template.substitute</c>, which the Python CLI applies to <c>-e</c>, <c>--build</c>
/// and <c>--exec</c> values. A placeholder without a value, or a <c>$</c> followed by anything else, is an error.
/// </summary>
public static class DollarTemplate
{
    /// <summary>Substitutes every placeholder of <paramref name="template"/> from <paramref name="values"/>.</summary>
    /// <param name="template">The template text.</param>
    /// <param name="values">The variables.</param>
    /// <param name="what">Names the template in errors, e.g. <c>-e A=$X</c>.</param>
    public static string Substitute(string template, IReadOnlyDictionary<string, string> values, string what)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(values);
        var sb = new StringBuilder(template.Length);
        var i = 0;
        while (i < template.Length)
        {
            var c = template[i];
            if (c != '$')
            {
                sb.Append(c);
                i++;
                continue;
            }
            if (i + 1 < template.Length && template[i + 1] == '$')
            {
                sb.Append('$');
                i += 2;
                continue;
            }
            string name;
            if (i + 1 < template.Length && template[i + 1] == '{')
            {
                var close = template.IndexOf('}', i + 2);
                name = close < 0 ? "" : template[(i + 2)..close];
                if (close < 0 || !IsIdentifier(name))
                    throw new CliUsageException($"Invalid placeholder in {what} at position {i}.");
                i = close + 1;
            }
            else
            {
                var end = i + 1;
                while (end < template.Length && IsIdentifierChar(template[end], end == i + 1))
                    end++;
                name = template[(i + 1)..end];
                if (name.Length == 0)
                    throw new CliUsageException($"Invalid placeholder in {what} at position {i}.");
                i = end;
            }
            if (!values.TryGetValue(name, out var value))
                throw new CliUsageException($"{what} uses ${name}, which no range expression defines.");
            sb.Append(value);
        }
        return sb.ToString();
    }

    private static bool IsIdentifier(string s)
    {
        if (s.Length == 0)
            return false;
        for (var k = 0; k < s.Length; k++)
        {
            if (!IsIdentifierChar(s[k], k == 0))
                return false;
        }
        return true;
    }

    private static bool IsIdentifierChar(char c, bool first) =>
        c == '_' || char.IsAsciiLetter(c) || (!first && char.IsAsciiDigit(c));
}
