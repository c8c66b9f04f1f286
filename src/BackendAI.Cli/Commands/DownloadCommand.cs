using System.CommandLine;
using System.Text.Json.Nodes;

namespace BackendAI.Cli.Commands;

/// <summary><c>backend.ai download SESSION FILES... [--dest DIR]</c>: downloads files from the session.</summary>
internal static class DownloadCommand
{
    public static Command Create(CliContext context)
    {
        var session = new Argument<string>("SESSION") { Description = "The session name or id." };
        var files = new Argument<string[]>("FILES") { Description = "Paths inside the session's working directory.", Arity = ArgumentArity.OneOrMore };
        var dest = new Option<string>("--dest") { Description = "The local directory to store the files in.", DefaultValueFactory = _ => "." };
        var command = new Command("download", "Download files from a compute session's working directory.") { session, files, dest };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var destination = context.ResolvePath(parseResult.GetValue(dest)!);
            Directory.CreateDirectory(destination);
            await using var handle = await context.Runtime.AttachAsync(parseResult.GetValue(session)!, ct).ConfigureAwait(false);
            var written = await TransferProgressView.RunAsync(context, "Downloading", show: !parseResult.IsJson(),
                progress => handle.DownloadAsync(parseResult.GetValue(files)!, destination, progress, ct), ct).ConfigureAwait(false);
            if (parseResult.IsJson())
            {
                context.WriteJson(new JsonObject
                {
                    ["destination"] = destination,
                    ["files"] = new JsonArray(written.Select(f => (JsonNode?)JsonValue.Create(f)).ToArray()),
                });
            }
            else
            {
                foreach (var f in written)
                    context.Out.WriteLine(f);
                context.Info($"✓ Downloaded {written.Count} file(s) to {destination}.");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
