using System.CommandLine;
using BackendAI.Client;
using BackendAI.Cli.Parsing;

namespace BackendAI.Cli.Commands;

/// <summary><c>backend.ai login</c>: signs in to a webserver endpoint (<c>BACKEND_ENDPOINT_TYPE=session</c>).</summary>
internal static class LoginCommand
{
    public static Command Create(CliContext context)
    {
        var user = new Option<string?>("--user", "-u") { Description = "The user ID (email); prompted when omitted." };
        var command = new Command("login", "Log in to the endpoint (only for BACKEND_ENDPOINT_TYPE=session); the password is prompted without echo.") { user };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var options = context.CreateClientOptions();
            if (options.EndpointType != EndpointType.Session)
                throw new CliUsageException("You can use the login command only with BACKEND_ENDPOINT_TYPE=session.");
            var userId = parseResult.GetValue(user) ?? await context.ReadInputAsync("User ID: ", false, ct).ConfigureAwait(false);
            if (string.IsNullOrWhiteSpace(userId))
                throw new CliUsageException("A user ID is required.");
            var password = await context.ReadInputAsync("Password: ", true, ct).ConfigureAwait(false) ?? "";
            options.Validate();
            await using var client = new BackendAIClient(options);
            await client.Auth.LoginAsync(userId.Trim(), password, ct).ConfigureAwait(false);
            context.Info("Login succeeded.");
            return ExitCodes.Success;
        });
        return command;
    }
}
