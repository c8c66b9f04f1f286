using System.CommandLine;
using BackendAI.Client;
using BackendAI.Cli.Parsing;

namespace BackendAI.Cli.Commands;

/// <summary>
/// <c>backend.ai login</c>: signs in to a webserver endpoint (<c>BACKEND_ENDPOINT_TYPE=session</c>) and keeps
/// the login cookie in <see cref="CookieJar"/> for later commands. It talks to the endpoint with a plain
/// client: nothing is authenticated before the login, so the runtime (and its event stream) has no use yet.
/// </summary>
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
            // A fresh jar: an earlier login's cookie would make the webserver refuse this one.
            var jar = new System.Net.CookieContainer();
            options.Cookies = jar;
            options.Validate();
            await using var client = new BackendAIClient(options);
            await client.Auth.LoginAsync(userId.Trim(), password, ct).ConfigureAwait(false);
            var path = CookieJar.PathOf(context);
            CookieJar.Save(jar, path);
            context.Info($"Login succeeded (the login cookie is kept in {path}).");
            return ExitCodes.Success;
        });
        return command;
    }
}
