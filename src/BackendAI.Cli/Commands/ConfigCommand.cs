using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace BackendAI.Cli.Commands;

/// <summary><c>backend.ai config</c>: prints the effective configuration, the secret key redacted.</summary>
internal static class ConfigCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("config", "Show the effective client configuration (from BACKEND_* variables); the secret key is never shown.");
        command.SetCliAction(context, (parseResult, _) =>
        {
            var o = context.CreateClientOptions();
            var secret = o.SecretKey.Length == 0 ? "(not set)" : "(set, redacted)";
            var rows = new List<(string Key, string Value)>
            {
                ("endpoint", string.Join(", ", o.Endpoints.Select(e => e.ToString()))),
                ("endpoint_type", o.EndpointType.ToString().ToLowerInvariant()),
                ("api_version", o.ApiVersion?.ToString() ?? "(negotiated)"),
                ("domain", o.Domain),
                ("group", o.Group),
                ("access_key", o.AccessKey.Length == 0 ? "(anonymous)" : o.AccessKey),
                ("secret_key", secret),
                ("hash_type", o.HashType),
                ("vfolder_mounts", string.Join(",", o.VFolderMounts)),
                ("skip_sslcert_validation", o.SkipSslVerification ? "yes" : "no"),
                ("connection_timeout", o.ConnectionTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("read_timeout", o.ReadTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            };
            if (parseResult.IsJson())
            {
                var json = new JsonObject();
                foreach (var (key, value) in rows)
                    json[key] = value;
                context.WriteJson(json);
            }
            else
            {
                var table = new Table().AddColumns("Setting", "Value");
                foreach (var (key, value) in rows)
                    table.AddRow(Markup.Escape(key), Markup.Escape(value));
                context.Console.Write(table);
            }
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }
}
