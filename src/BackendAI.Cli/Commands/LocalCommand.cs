using System.CommandLine;
using BackendAI.Local;

namespace BackendAI.Cli.Commands;

/// <summary><c>backend.ai local serve</c>: runs the embedded Backend.AI-compatible server until Ctrl+C.</summary>
internal static class LocalCommand
{
    public static Command Create(CliContext context)
    {
        var urls = new Option<string?>("--urls") { Description = "Listen URLs, e.g. http://127.0.0.1:8081 (default)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "The data directory (default ./.backendai-local)." };
        var config = new Option<string?>("--config") { Description = "A HOCON file with a backendai.local section." };
        var host = new Option<string?>("--host") { Description = "The interface to bind (with --port)." };
        var port = new Option<int?>("--port") { Description = "The port to bind (0 = a free one)." };
        var serve = new Command("serve", "Start the embedded local server (same flags as running BackendAI.Local directly).") { urls, dataDir, config, host, port };
        serve.SetCliAction(context, async (parseResult, ct) =>
        {
            var args = new List<string>();
            void Add(string flag, string? value)
            {
                if (value is not null)
                {
                    args.Add(flag);
                    args.Add(value);
                }
            }
            Add("--config", parseResult.GetValue(config) is { } c ? context.ResolvePath(c) : null);
            Add("--urls", parseResult.GetValue(urls));
            Add("--data-dir", parseResult.GetValue(dataDir) is { } d ? context.ResolvePath(d) : null);
            Add("--host", parseResult.GetValue(host));
            Add("--port", parseResult.GetValue(port)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            LocalBackendOptions options;
            try
            {
                options = LocalBackendOptions.FromArgs(args);
            }
            catch (ArgumentException e)
            {
                throw new Parsing.CliUsageException(e.Message, e);
            }
            await using var backend = await LocalBackend.StartAsync(options, ct).ConfigureAwait(false);
            context.Info($"∙ Backend.AI local server listening on {backend.Endpoint} (data: {options.DataDirectory}).");
            context.Info($"∙ Use it with BACKEND_ENDPOINT={backend.Endpoint} BACKEND_ACCESS_KEY={backend.AdminKeypair.AccessKey} and that keypair's secret key; Ctrl+C stops it.");
            try
            {
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                context.Info("∙ Stopping.");
            }
            return ExitCodes.Success;
        });
        var local = new Command("local", "The embedded local server.") { serve };
        return local;
    }
}
