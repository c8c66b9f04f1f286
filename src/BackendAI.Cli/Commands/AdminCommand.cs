using System.CommandLine;

namespace BackendAI.Cli.Commands;

/// <summary><c>backend.ai admin sessions</c>: lists every user's sessions with the owner column (admins).</summary>
internal static class AdminCommand
{
    public static Command Create(CliContext context)
    {
        var admin = new Command("admin", "Administrative commands (need an admin keypair).");
        admin.Subcommands.Add(SessionListing.CreateCommand(context, "sessions",
            "List the compute sessions of every user, with the owner's access key.", admin: true, "session"));
        return admin;
    }
}
