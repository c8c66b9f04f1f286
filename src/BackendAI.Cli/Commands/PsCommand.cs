using System.CommandLine;

namespace BackendAI.Cli.Commands;

/// <summary><c>backend.ai ps</c>: lists the caller's compute sessions.</summary>
internal static class PsCommand
{
    public static Command Create(CliContext context) =>
        SessionListing.CreateCommand(context, "ps", "List your compute sessions (default: every session that is not dead).", admin: false);
}
