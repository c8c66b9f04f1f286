using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace BackendAI.Cli.Commands;

/// <summary><c>backend.ai ls SESSION [PATH]</c>: lists a directory inside the session.</summary>
internal static class LsCommand
{
    public static Command Create(CliContext context)
    {
        var session = new Argument<string>("SESSION") { Description = "The session name or id." };
        var path = new Argument<string>("PATH") { Description = "A directory relative to the working directory.", DefaultValueFactory = _ => ".", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("ls", "List files in a directory of a compute session.") { session, path };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            await using var handle = await context.Runtime.AttachAsync(parseResult.GetValue(session)!, ct).ConfigureAwait(false);
            var entries = await handle.ListFilesAsync(parseResult.GetValue(path) ?? ".", ct).ConfigureAwait(false);
            if (parseResult.IsJson())
            {
                context.WriteJson(new JsonArray(entries.Select(e => (JsonNode?)new JsonObject
                {
                    ["filename"] = e.FileName,
                    ["size"] = e.Size,
                    ["mode"] = e.Mode,
                    ["mtime"] = e.MTime,
                }).ToArray()));
                return ExitCodes.Success;
            }
            var table = new Table().Border(TableBorder.Simple).AddColumns("File name", "Size", "Modified", "Mode");
            foreach (var e in entries.OrderBy(e => e.FileName, StringComparer.Ordinal))
            {
                var modified = DateTimeOffset.FromUnixTimeMilliseconds((long)(e.MTime * 1000)).ToLocalTime().ToString("MMM dd yyyy HH:mm:ss", CultureInfo.InvariantCulture);
                table.AddRow(Markup.Escape(e.FileName), Sizes.Format(e.Size), modified, Markup.Escape(e.Mode));
            }
            context.Console.Write(table);
            return ExitCodes.Success;
        });
        return command;
    }
}

/// <summary>Human-readable binary sizes.</summary>
internal static class Sizes
{
    public static string Format(long bytes)
    {
        string[] units = ["Bytes", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        var u = 0;
        while (v >= 1024 && u < units.Length - 1)
        {
            v /= 1024;
            u++;
        }
        return u == 0 ? $"{bytes} Bytes" : v.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[u];
    }
}
