using BackendAI.Client;

namespace BackendAI.Cli.Commands;

/// <summary>Writes execution console records the way the Python CLI prints them.</summary>
internal static class SessionOutput
{
    /// <summary>stdout/stderr text to the matching writer; other record types as a delimited block on stdout.</summary>
    public static async Task WriteRecordAsync(ConsoleRecord record, TextWriter stdout, TextWriter stderr)
    {
        switch (record.Type)
        {
            case "stdout":
                await stdout.WriteAsync(record.Text).ConfigureAwait(false);
                break;
            case "stderr":
                await stderr.WriteAsync(record.Text).ConfigureAwait(false);
                break;
            default:
                await stdout.WriteLineAsync($"----- output record (type: {record.Type}{(record.MediaType is null ? "" : ", " + record.MediaType)}) -----").ConfigureAwait(false);
                await stdout.WriteLineAsync(record.Text ?? record.Raw.GetRawText()).ConfigureAwait(false);
                await stdout.WriteLineAsync("----- end of record -----").ConfigureAwait(false);
                break;
        }
    }

    /// <summary>A random session name as the Python CLI makes them: 10 lowercase hex characters.</summary>
    public static string RandomName() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(5));
}
