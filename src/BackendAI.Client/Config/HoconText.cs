using Akka.Configuration;
using BackendAI.Client.Errors;

namespace BackendAI.Client.Config;

/// <summary>
/// Parses HOCON text into an Akka <see cref="Akka.Configuration.Config"/> with a structural check first:
/// Akka's parser loops forever on some malformed documents (an unclosed list such as
/// <c>endpoint = [1, 2 }</c>), so brackets and quotes are checked before it sees the text, and every
/// failure becomes a <see cref="BackendClientException"/> naming the section.
/// </summary>
public static class HoconText
{
    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <param name="text">The HOCON document.</param>
    /// <param name="section">The section the caller reads (named in errors), e.g. <c>backendai.client</c>.</param>
    /// <exception cref="BackendClientException">The text is not well-formed HOCON.</exception>
    public static Akka.Configuration.Config Parse(string text, string section)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (CheckStructure(text) is { } problem)
            throw new BackendClientException($"The HOCON for {section} is malformed: {problem}.", section);
        try
        {
            return ConfigurationFactory.ParseString(text);
        }
        catch (Exception ex)
        {
            throw new BackendClientException($"The HOCON for {section} does not parse: {ex.Message}", section, ex);
        }
    }

    /// <summary>Returns a description of the first structural problem (unbalanced brackets, unclosed string), or null.</summary>
    internal static string? CheckStructure(string text)
    {
        var stack = new Stack<(char Open, int Line)>();
        var line = 1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '\n':
                    line++;
                    break;
                case '#':
                    i = SkipToEndOfLine(text, i);
                    line++;
                    break;
                case '/' when i + 1 < text.Length && text[i + 1] == '/':
                    i = SkipToEndOfLine(text, i);
                    line++;
                    break;
                case '"' when i + 2 < text.Length && text[i + 1] == '"' && text[i + 2] == '"':
                {
                    var end = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
                    if (end < 0) return $"a triple-quoted string opened on line {line} is never closed";
                    line += text.AsSpan(i, end - i).Count('\n');
                    i = end + 2;
                    break;
                }
                case '"':
                {
                    var j = i + 1;
                    while (j < text.Length && text[j] != '"' && text[j] != '\n')
                        j += text[j] == '\\' ? 2 : 1;
                    if (j >= text.Length || text[j] != '"') return $"a string opened on line {line} is never closed";
                    i = j;
                    break;
                }
                case '{' or '[':
                    stack.Push((c, line));
                    break;
                case '}' or ']':
                {
                    var expected = c == '}' ? '{' : '[';
                    if (stack.Count == 0) return $"'{c}' on line {line} closes nothing";
                    var (open, openLine) = stack.Pop();
                    if (open != expected) return $"'{c}' on line {line} does not match '{open}' opened on line {openLine}";
                    break;
                }
            }
        }
        return stack.Count > 0 ? $"'{stack.Peek().Open}' opened on line {stack.Peek().Line} is never closed" : null;
    }

    private static int SkipToEndOfLine(string text, int i)
    {
        var end = text.IndexOf('\n', i);
        return end < 0 ? text.Length : end;
    }
}
