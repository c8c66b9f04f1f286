using System.Text;
using System.Text.Json.Nodes;

namespace BackendAI.Cli.Parsing;

/// <summary>
/// The <c>app --arg "--option value"</c> and <c>-e NAME=value</c> options turned into the JSON
/// <c>arguments</c> and <c>envs</c> query parameters of the tcpproxy WebSocket (streaming.md B.4):
/// a flag alone maps to <c>null</c>, one value to a string, several values to a list.
/// </summary>
public static class AppArguments
{
    /// <summary>Builds the <c>arguments</c> object; null when there are none.</summary>
    public static JsonObject? ParseArguments(IEnumerable<string>? args)
    {
        var result = new JsonObject();
        foreach (var arg in args ?? [])
        {
            var tokens = ShellSplit(arg);
            if (tokens.Count == 0)
                continue;
            var name = tokens[0];
            if (!name.StartsWith('-'))
                throw new CliUsageException($"Invalid --arg \"{arg}\": it must start with an option name such as --port.");
            result[name] = tokens.Count switch
            {
                1 => null,
                2 => JsonValue.Create(tokens[1]),
                _ => new JsonArray(tokens.Skip(1).Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
            };
        }
        return result.Count == 0 ? null : result;
    }

    /// <summary>Builds the <c>envs</c> object; null when there are none.</summary>
    public static JsonObject? ParseEnvironment(IEnumerable<string>? envs)
    {
        var result = new JsonObject();
        foreach (var pair in KeyValueOptions.ParseEnvironment(envs))
            result[pair.Key] = pair.Value;
        return result.Count == 0 ? null : result;
    }

    /// <summary>Splits like a POSIX shell: whitespace separates, single and double quotes group, backslash escapes.</summary>
    public static IReadOnlyList<string> ShellSplit(string text)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        var inToken = false;
        char quote = '\0';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote == '\'')
            {
                if (c == '\'') quote = '\0'; else current.Append(c);
            }
            else if (quote == '"')
            {
                if (c == '"') quote = '\0';
                else if (c == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$') current.Append(text[++i]);
                else current.Append(c);
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inToken)
                {
                    tokens.Add(current.ToString());
                    current.Clear();
                    inToken = false;
                }
            }
            else
            {
                inToken = true;
                if (c is '\'' or '"') quote = c;
                else if (c == '\\' && i + 1 < text.Length) current.Append(text[++i]);
                else current.Append(c);
            }
        }
        if (quote != '\0')
            throw new CliUsageException($"Unterminated quote in \"{text}\".");
        if (inToken)
            tokens.Add(current.ToString());
        return tokens;
    }
}
