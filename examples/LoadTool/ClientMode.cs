using System.Text;
using BackendAI.Client;

namespace BackendAI.Examples.LoadTool;

/// <summary>
/// The wire layer alone, for diagnosis: <see cref="BackendAIClient"/> (the transport the runtime uses) called
/// directly — create, execute (query, then <c>continue</c> while <c>continued</c>), destroy — with no actors.
/// Runtime vs client separates the actor layer's cost from the transport's; client vs baseline the transport's.
/// </summary>
public sealed class ClientMode(BackendAIClient client) : ILoadMode
{
    /// <inheritdoc />
    public string Name => "client";

    /// <inheritdoc />
    public async Task<ILoadSession> StartAsync(string name, string image, CancellationToken cancellationToken)
    {
        var created = await client.Sessions.CreateAsync(new SessionCreateRequest { Image = image, Name = name }, cancellationToken)
            .ConfigureAwait(false);
        return new Session(client, created.SessionId);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => client.DisposeAsync();

    private sealed class Session(BackendAIClient client, string id) : ILoadSession
    {
        public async Task<string> ExecuteAsync(string code, CancellationToken cancellationToken)
        {
            var stdout = new StringBuilder();
            var request = new ExecuteRequest(ExecuteMode.Query, code, null);
            while (true)
            {
                var r = await client.Sessions.ExecuteAsync(id, request, cancellationToken).ConfigureAwait(false);
                foreach (var record in r.Console)
                    if (record.Type == "stdout") stdout.Append(record.Text);
                switch (r.Status)
                {
                    case "finished" or "exec-timeout":
                        return stdout.ToString();
                    case "continued":
                        request = new ExecuteRequest(ExecuteMode.Continue, "", r.RunId);
                        break;
                    default:
                        throw new InvalidOperationException($"Unexpected execute status '{r.Status}'.");
                }
            }
        }

        public async ValueTask DisposeAsync() =>
            await client.Sessions.DestroyAsync(id, cancellationToken: CancellationToken.None).ConfigureAwait(false);
    }
}
