using BackendAI.Cli.Parsing;
using BackendAI.Client.Errors;

namespace BackendAI.Cli;

/// <summary>Turns errors into the one line the CLI prints, and into its exit code.</summary>
public static class ErrorMessages
{
    /// <summary>A one-line, secret-free description of <paramref name="error"/>.</summary>
    public static string OneLine(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var text = error switch
        {
            CliUsageException e => e.Message,
            Commands.NamedFailureException e => e.Message,
            BackendApiException e => Describe(e),
            BackendClientException e => e.Setting is null ? $"Configuration error: {e.Message}" : $"Configuration error ({e.Setting}): {e.Message}",
            BackendConnectionException e => $"Cannot reach the server: {e.Message}",
            BackendProtocolException e => $"The server broke the protocol: {e.Message}",
            BackendException e => e.Message,
            OperationCanceledException => "Cancelled.",
            TimeoutException e => $"Timed out: {e.Message}",
            HttpRequestException e => $"Cannot reach the server: {e.Message}",
            FileNotFoundException e => $"File not found: {e.FileName ?? e.Message}",
            DirectoryNotFoundException e => $"Directory not found: {e.Message}",
            UnauthorizedAccessException e => $"Access denied: {e.Message}",
            IOException e => $"I/O error: {e.Message}",
            _ => $"{error.GetType().Name}: {error.Message}",
        };
        return Flatten(text);
    }

    /// <summary>The process exit code for an error that ended a command.</summary>
    public static int ExitCodeOf(Exception error) => error switch
    {
        CliUsageException => ExitCodes.Usage,
        Commands.NamedFailureException { InnerException: { } inner } => ExitCodeOf(inner),
        BackendClientException => ExitCodes.Usage,
        BackendConnectionException or HttpRequestException => ExitCodes.Unavailable,
        OperationCanceledException => ExitCodes.Interrupted,
        _ => ExitCodes.Failure,
    };

    private static string Describe(BackendApiException e)
    {
        var what = string.IsNullOrEmpty(e.Msg) ? e.Title : $"{e.Title} ({e.Msg})";
        return e.Status switch
        {
            401 => $"Authentication failed: {what}",
            403 => $"Not allowed: {what}",
            404 => $"Not found: {what}",
            429 => $"Rate limited: {what}",
            _ => $"{e.Status} {what}",
        };
    }

    private static string Flatten(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= 500 ? line : line[..497] + "...";
    }
}

/// <summary>The exit codes of <c>backend.ai</c> (besides <c>run</c>, which returns the code's own exit code).</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Success = 0;
    /// <summary>The operation failed (server error, failed case, not found...).</summary>
    public const int Failure = 1;
    /// <summary>Bad command line or configuration.</summary>
    public const int Usage = 2;
    /// <summary>The server could not be reached.</summary>
    public const int Unavailable = 69;
    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int Interrupted = 130;
}
