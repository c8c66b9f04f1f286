using System.CommandLine;
using BackendAI.Cli.Parsing;

namespace BackendAI.Cli.Commands;

/// <summary><c>backend.ai upload SESSION FILES...</c>: uploads files into the session's working directory.</summary>
internal static class UploadCommand
{
    public static Command Create(CliContext context)
    {
        var session = new Argument<string>("SESSION") { Description = "The session name or id." };
        var files = new Argument<string[]>("FILES") { Description = "Local files, stored under the same relative paths.", Arity = ArgumentArity.OneOrMore };
        var basedir = new Option<string?>("--basedir") { Description = "Paths are made relative to this directory (default: the current directory)." };
        var command = new Command("upload", "Upload files to a compute session's working directory.") { session, files, basedir };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var baseDir = context.ResolvePath(parseResult.GetValue(basedir) ?? ".");
            var uploads = new List<string>();
            foreach (var file in parseResult.GetValue(files)!)
            {
                var full = context.ResolvePath(file);
                if (!File.Exists(full))
                    throw new CliUsageException($"The file \"{file}\" does not exist.");
                var relative = Path.GetRelativePath(baseDir, full);
                if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
                    throw new CliUsageException($"The file \"{file}\" is outside the base directory \"{baseDir}\".");
                uploads.Add(full);
            }
            await using var handle = await context.Runtime.AttachAsync(parseResult.GetValue(session)!, ct).ConfigureAwait(false);
            await SessionTransfers.UploadAsync(context, handle, uploads, baseDir, showProgress: true, ct).ConfigureAwait(false);
            context.Info($"✓ Uploaded {uploads.Count} file(s).");
            return ExitCodes.Success;
        });
        return command;
    }
}
