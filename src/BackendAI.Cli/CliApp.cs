using System.CommandLine;
using BackendAI.Cli.Commands;

namespace BackendAI.Cli;

/// <summary>
/// The <c>backend.ai</c> command line: builds the command tree for a <see cref="CliContext"/> and runs it.
/// <c>Program</c> calls <see cref="RunAsync"/> with the process context; tests call it with captured writers.
/// </summary>
public static class CliApp
{
    /// <summary>Builds the root command with every verb.</summary>
    public static RootCommand BuildRootCommand(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var root = new RootCommand("Backend.AI command line: run code in compute sessions, manage sessions and vfolders.")
        {
            CliOptions.CreateOutput(),
            CliOptions.CreateDebug(),
        };
        root.Subcommands.Add(ConfigCommand.Create(context));
        root.Subcommands.Add(LoginCommand.Create(context));
        root.Subcommands.Add(LogoutCommand.Create(context));
        root.Subcommands.Add(PsCommand.Create(context));
        root.Subcommands.Add(AdminCommand.Create(context));
        root.Subcommands.Add(RunCommand.Create(context));
        root.Subcommands.Add(StartCommand.Create(context));
        root.Subcommands.Add(RmCommand.Create(context));
        root.Subcommands.Add(EventsCommand.Create(context));
        root.Subcommands.Add(LogsCommand.Create(context));
        root.Subcommands.Add(UploadCommand.Create(context));
        root.Subcommands.Add(DownloadCommand.Create(context));
        root.Subcommands.Add(LsCommand.Create(context));
        root.Subcommands.Add(AppCommand.Create(context));
        root.Subcommands.Add(VFolderCommand.Create(context));
        root.Subcommands.Add(LocalCommand.Create(context));
        return root;
    }

    /// <summary>
    /// Parses <paramref name="args"/> and runs the command. A parse error prints one line (and a hint
    /// to use <c>--help</c>) and returns <see cref="ExitCodes.Usage"/>.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(context);
        var root = BuildRootCommand(context);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            await context.Error.WriteLineAsync($"backend.ai: {parseResult.Errors[0].Message}").ConfigureAwait(false);
            await context.Error.WriteLineAsync("Run 'backend.ai --help' (or the command with --help) for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        var configuration = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            EnableDefaultExceptionHandler = false,
        };
        try
        {
            return await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await context.DisposeRuntimeAsync().ConfigureAwait(false);
        }
    }
}
