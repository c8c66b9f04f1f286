using System.Collections.Concurrent;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using BackendAI.Cli.Parsing;
using BackendAI.Client;
using BackendAI.Client.Transfers;
using Spectre.Console;

namespace BackendAI.Cli.Commands;

/// <summary><c>backend.ai vfolder ...</c>: virtual folder management and transfers (with progress bars on a terminal).</summary>
internal static class VFolderCommand
{
    public static Command Create(CliContext context)
    {
        var vfolder = new Command("vfolder", "Virtual folder (storage) commands.");
        vfolder.Subcommands.Add(List(context));
        vfolder.Subcommands.Add(ListHosts(context));
        vfolder.Subcommands.Add(CreateFolder(context));
        vfolder.Subcommands.Add(Delete(context));
        vfolder.Subcommands.Add(Info(context));
        vfolder.Subcommands.Add(Upload(context));
        vfolder.Subcommands.Add(Download(context));
        vfolder.Subcommands.Add(Ls(context));
        vfolder.Subcommands.Add(Mkdir(context));
        vfolder.Subcommands.Add(Rm(context));
        vfolder.Subcommands.Add(Mv(context));
        return vfolder;
    }

    private static Argument<string> NameArgument() => new("NAME") { Description = "The vfolder name." };

    private static Command List(CliContext context)
    {
        var command = new Command("list", "List the virtual folders you can access.");
        command.Aliases.Add("ls-folders");
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var client = context.Client;
            var folders = await client.VFolders.ListAsync(null, ct).ConfigureAwait(false);
            if (parseResult.IsJson())
            {
                context.WriteJson(new JsonArray(folders.Select(f => JsonNode.Parse(f.GetRawText())).ToArray()));
                return ExitCodes.Success;
            }
            if (folders.Count == 0)
            {
                context.Info("There are no virtual folders.");
                return ExitCodes.Success;
            }
            string[] fields = ["name", "id", "host", "usage_mode", "permission", "is_owner", "ownership_type"];
            var table = new Table().Border(TableBorder.Simple).AddColumns("Name", "ID", "Host", "Usage Mode", "Permission", "Owner", "Type");
            foreach (var f in folders)
                table.AddRow(fields.Select(k => Markup.Escape(Text(f, k))).ToArray());
            context.Console.Write(table);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command ListHosts(CliContext context)
    {
        var command = new Command("list-hosts", "List the storage hosts you may create folders on.");
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var client = context.Client;
            var hosts = await client.VFolders.ListHostsAsync(ct).ConfigureAwait(false);
            if (parseResult.IsJson())
            {
                context.WriteJson(hosts);
                return ExitCodes.Success;
            }
            await context.Out.WriteLineAsync($"Default host: {Text(hosts, "default")}").ConfigureAwait(false);
            var allowed = hosts.TryGetProperty("allowed", out var a) && a.ValueKind == JsonValueKind.Array
                ? string.Join(", ", a.EnumerateArray().Select(h => h.GetString()))
                : "";
            await context.Out.WriteLineAsync($"Usable hosts: {allowed}").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateFolder(CliContext context)
    {
        var name = NameArgument();
        var host = new Argument<string?>("HOST") { Description = "The storage host, e.g. local:volume1 (default: the server's default).", Arity = ArgumentArity.ZeroOrOne };
        var group = new Option<string?>("--group", "-g") { Description = "Create a project folder of this group (id or name)." };
        var usage = new Option<string>("--usage-mode") { Description = "general, model or data.", DefaultValueFactory = _ => "general" };
        usage.AcceptOnlyFromAmong("general", "model", "data");
        var permission = new Option<string>("--permission", "-p") { Description = "ro, rw or wd.", DefaultValueFactory = _ => "rw" };
        permission.AcceptOnlyFromAmong("ro", "rw", "wd");
        var quota = new Option<string>("--quota", "-q") { Description = "Quota, e.g. 10g (0 = unlimited).", DefaultValueFactory = _ => "0" };
        var cloneable = new Option<bool>("--cloneable") { Description = "Allow cloning the folder." };
        var command = new Command("create", "Create a new virtual folder.") { name, host, group, usage, permission, quota, cloneable };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var client = context.Client;
            var result = await client.VFolders.CreateAsync(parseResult.GetValue(name)!, new VFolderCreateOptions
            {
                Host = parseResult.GetValue(host),
                Group = parseResult.GetValue(group),
                UsageMode = parseResult.GetValue(usage)!,
                Permission = parseResult.GetValue(permission)!,
                Quota = parseResult.GetValue(quota)!,
                Cloneable = parseResult.GetValue(cloneable),
            }, ct).ConfigureAwait(false);
            if (parseResult.IsJson())
                context.WriteJson(result);
            else
                context.Info($"✓ Virtual folder \"{Text(result, "name")}\" is created (id {Text(result, "id")}, host {Text(result, "host")}).");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Delete(CliContext context)
    {
        var name = NameArgument();
        var command = new Command("delete", "Delete a virtual folder.") { name };
        command.Aliases.Add("rm-folder");
        command.SetCliAction(context, async (_, ct) =>
        {
            var client = context.Client;
            await client.VFolders.DeleteAsync(_.GetValue(name)!, ct).ConfigureAwait(false);
            context.Info("✓ Deleted.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Info(CliContext context)
    {
        var name = NameArgument();
        var command = new Command("info", "Show the details of a virtual folder.") { name };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var client = context.Client;
            var info = await client.VFolders.GetInfoAsync(parseResult.GetValue(name)!, ct).ConfigureAwait(false);
            if (parseResult.IsJson())
            {
                context.WriteJson(info);
                return ExitCodes.Success;
            }
            var table = new Table().Border(TableBorder.Simple).AddColumns("Field", "Value");
            foreach (var p in info.EnumerateObject())
                table.AddRow(Markup.Escape(p.Name), Markup.Escape(Text(info, p.Name)));
            context.Console.Write(table);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Upload(CliContext context)
    {
        var name = NameArgument();
        var files = new Argument<string[]>("FILES") { Description = "Local files or directories.", Arity = ArgumentArity.OneOrMore };
        var baseDir = new Option<string?>("--base-dir", "-b") { Description = "The folder directory to upload into (default: the root)." };
        var command = new Command("upload", "Upload files to a virtual folder (resumable, with progress).") { name, files, baseDir };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var paths = parseResult.GetValue(files)!.Select(context.ResolvePath).ToList();
            foreach (var p in paths)
            {
                if (!File.Exists(p) && !Directory.Exists(p))
                    throw new CliUsageException($"The file \"{p}\" does not exist.");
            }
            var client = context.Client;
            var written = await TransferProgressView.RunAsync(context, "Uploading", show: true, progress =>
                client.VFolders.UploadAsync(parseResult.GetValue(name)!, paths, parseResult.GetValue(baseDir), progress, ct), ct).ConfigureAwait(false);
            if (parseResult.IsJson())
                context.WriteJson(new JsonArray(written.Select(w => (JsonNode?)JsonValue.Create(w)).ToArray()));
            else
                context.Info($"✓ Uploaded {written.Count} file(s).");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Download(CliContext context)
    {
        var name = NameArgument();
        var files = new Argument<string[]>("FILES") { Description = "Paths inside the folder.", Arity = ArgumentArity.OneOrMore };
        var baseDir = new Option<string?>("--base-dir", "-b", "--dest") { Description = "The local directory to store the files in (default: the current directory)." };
        var command = new Command("download", "Download files from a virtual folder (resumable, with progress).") { name, files, baseDir };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var destination = context.ResolvePath(parseResult.GetValue(baseDir) ?? ".");
            Directory.CreateDirectory(destination);
            var client = context.Client;
            var written = new List<string>();
            await TransferProgressView.RunAsync(context, "Downloading", show: true, async progress =>
            {
                foreach (var f in parseResult.GetValue(files)!)
                    written.Add(await client.VFolders.DownloadAsync(parseResult.GetValue(name)!, f, destination, progress, ct).ConfigureAwait(false));
                return written;
            }, ct).ConfigureAwait(false);
            if (parseResult.IsJson())
                context.WriteJson(new JsonArray(written.Select(w => (JsonNode?)JsonValue.Create(w)).ToArray()));
            else
                context.Info($"✓ Downloaded {written.Count} file(s) to {destination}.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Ls(CliContext context)
    {
        var name = NameArgument();
        var path = new Argument<string>("PATH") { Description = "A directory inside the folder.", DefaultValueFactory = _ => ".", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("ls", "List files in a directory of a virtual folder.") { name, path };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var client = context.Client;
            var entries = await client.VFolders.ListFilesAsync(parseResult.GetValue(name)!, parseResult.GetValue(path) ?? ".", ct).ConfigureAwait(false);
            if (parseResult.IsJson())
            {
                context.WriteJson(new JsonArray(entries.Select(e => (JsonNode?)new JsonObject
                {
                    ["name"] = e.Name, ["type"] = e.Type, ["size"] = e.Size, ["mode"] = e.Mode, ["modified"] = e.Modified,
                }).ToArray()));
                return ExitCodes.Success;
            }
            var table = new Table().Border(TableBorder.Simple).AddColumns("File name", "Type", "Size", "Modified", "Mode");
            foreach (var e in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
                table.AddRow(Markup.Escape(e.Name), e.Type, Sizes.Format(e.Size), Markup.Escape(e.Modified ?? ""), Markup.Escape(e.Mode));
            context.Console.Write(table);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Mkdir(CliContext context)
    {
        var name = NameArgument();
        var path = new Argument<string>("PATH") { Description = "The directory to create." };
        var parents = new Option<bool>("--parents", "-p") { Description = "Create missing parent directories and accept an existing directory." };
        var command = new Command("mkdir", "Create a directory in a virtual folder.") { name, path, parents };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var p = parseResult.GetValue(parents);
            var client = context.Client;
            await client.VFolders.MkdirAsync(parseResult.GetValue(name)!, parseResult.GetValue(path)!, p, p, ct).ConfigureAwait(false);
            context.Info("✓ Done.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Rm(CliContext context)
    {
        var name = NameArgument();
        var paths = new Argument<string[]>("PATHS") { Description = "Files (or directories with -r) to delete.", Arity = ArgumentArity.OneOrMore };
        var recursive = new Option<bool>("--recursive", "-r") { Description = "Delete directories with their contents." };
        var command = new Command("rm", "Delete files in a virtual folder.") { name, paths, recursive };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var client = context.Client;
            await client.VFolders.DeleteFilesAsync(parseResult.GetValue(name)!, parseResult.GetValue(paths)!, parseResult.GetValue(recursive), ct).ConfigureAwait(false);
            context.Info("✓ Done.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Mv(CliContext context)
    {
        var name = NameArgument();
        var source = new Argument<string>("SRC") { Description = "The file or directory to move or rename." };
        var target = new Argument<string>("DST") { Description = "Its new path inside the folder; ending with / moves it into that directory under its name." };
        var command = new Command("mv", "Move or rename a file or directory inside a virtual folder.") { name, source, target };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var (src, dst) = VFolderMove.Resolve(parseResult.GetValue(source)!, parseResult.GetValue(target)!);
            var client = context.Client;
            // Within one directory this is a rename (rename-file, which every manager has); across directories a move (move-file).
            if (VFolderMove.IsRename(src, dst))
                await client.VFolders.RenameFileAsync(parseResult.GetValue(name)!, src, VFolderMove.NameOf(dst), false, ct).ConfigureAwait(false);
            else
                await client.VFolders.MoveFileAsync(parseResult.GetValue(name)!, src, dst, ct).ConfigureAwait(false);
            context.Info($"✓ Moved {src} to {dst}.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static string Text(JsonElement e, string field)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(field, out var v))
            return "";
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString() ?? "",
            JsonValueKind.Null => "",
            _ => v.GetRawText(),
        };
    }
}
