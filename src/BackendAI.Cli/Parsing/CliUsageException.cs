namespace BackendAI.Cli.Parsing;

/// <summary>
/// Bad command-line input detected before anything is sent: the message names the option and the
/// problem, and is printed as the one-line reason with exit code 2.
/// </summary>
public sealed class CliUsageException : Exception
{
    /// <summary>Creates the error.</summary>
    /// <param name="message">What is wrong, naming the option.</param>
    /// <param name="innerException">The cause, when there is one.</param>
    public CliUsageException(string message, Exception? innerException = null) : base(message, innerException) { }
}
