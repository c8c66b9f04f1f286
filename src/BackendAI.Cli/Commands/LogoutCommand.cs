using System.CommandLine;
using BackendAI.Client;
using BackendAI.Cli.Parsing;

namespace BackendAI.Cli.Commands;

/// <summary>
/// <c>backend.ai logout</c>: signs out of a webserver endpoint and deletes the saved login cookie
/// (<see cref="CookieJar"/>), also when the server call fails, so the next command is logged out.
/// </summary>
internal static class LogoutCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("logout", "Log out from the endpoint (only for BACKEND_ENDPOINT_TYPE=session).");
        command.SetCliAction(context, async (_, ct) =>
        {
            var options = context.CreateClientOptions();
            if (options.EndpointType != EndpointType.Session)
                throw new CliUsageException("You can use the logout command only with BACKEND_ENDPOINT_TYPE=session.");
            options.Validate();
            try
            {
                await using var client = new BackendAIClient(options);
                await client.Auth.LogoutAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                CookieJar.Delete(CookieJar.PathOf(context));
            }
            context.Info("Logout done.");
            return ExitCodes.Success;
        });
        return command;
    }
}
