using BackendAI.Cli.Parsing;
using BackendAI.Client.Errors;

namespace BackendAI.Cli.Tests.Parsing;

public class ErrorMessagesTests
{
    [Fact]
    public void Api_errors_become_one_line_with_status_meaning_title_and_msg()
    {
        var e = new BackendApiException(404, "Not Found", "https://api.backend.ai/probs/session-not-found", "No such session.", "mysess");
        Assert.Equal("Not found: No such session. (mysess)", ErrorMessages.OneLine(e));
        Assert.Equal(ExitCodes.Failure, ErrorMessages.ExitCodeOf(e));
        var auth = new BackendApiException(401, "Unauthorized", "https://api.backend.ai/probs/auth-failed", "Authentication failed.");
        Assert.StartsWith("Authentication failed: ", ErrorMessages.OneLine(auth), StringComparison.Ordinal);
    }

    [Fact]
    public void Usage_configuration_and_connection_errors_have_their_exit_codes()
    {
        Assert.Equal(ExitCodes.Usage, ErrorMessages.ExitCodeOf(new CliUsageException("bad")));
        Assert.Equal(ExitCodes.Usage, ErrorMessages.ExitCodeOf(new BackendClientException("bad endpoint", "endpoint")));
        Assert.Equal(ExitCodes.Unavailable, ErrorMessages.ExitCodeOf(new BackendConnectionException("refused")));
        Assert.Equal(ExitCodes.Interrupted, ErrorMessages.ExitCodeOf(new OperationCanceledException()));
        Assert.Equal("Configuration error (endpoint): bad endpoint", ErrorMessages.OneLine(new BackendClientException("bad endpoint", "endpoint")));
    }

    [Fact]
    public void Multi_line_and_long_messages_are_flattened_to_one_bounded_line()
    {
        var line = ErrorMessages.OneLine(new InvalidOperationException("first\nsecond\r\n" + new string('x', 1000)));
        Assert.DoesNotContain('\n', line);
        Assert.True(line.Length <= 500);
        Assert.StartsWith("InvalidOperationException: first second", line, StringComparison.Ordinal);
    }
}
