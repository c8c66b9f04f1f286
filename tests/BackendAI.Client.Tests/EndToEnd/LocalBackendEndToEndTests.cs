using System.Text;
using BackendAI.Client.Config;
using BackendAI.Client.Errors;
using BackendAI.Client.Events;
using BackendAI.Client.Models;
using BackendAI.Client.Tests.Infrastructure;
using BackendAI.Testing;

namespace BackendAI.Client.Tests.EndToEnd;

/// <summary>The client against the in-process BackendAI.Local server (real signing, real sessions of the <c>sim</c> image).</summary>
public class LocalBackendEndToEndTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>
{
    private BackendAIClient NewClient(string secret = LoopbackServer.SecretKey) => new(new BackendAIClientOptions
    {
        Endpoints = [fx.Endpoint],
        AccessKey = LoopbackServer.AccessKey,
        SecretKey = secret,
    });

    [Fact]
    public async Task Session_lifecycle_execute_upload_and_list_against_the_local_server()
    {
        await using var client = NewClient();
        Assert.Equal(ApiVersion.Current, await client.NegotiateVersionAsync());
        var name = "e2e-" + Guid.NewGuid().ToString("N")[..8];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var created = await client.Sessions.CreateAsync(new SessionCreateRequest { Image = "sim", Name = name }, cts.Token);
        Assert.True(created.Created);
        Assert.Equal("RUNNING", created.Status);
        Assert.Equal(SessionStatus.Running, (await client.Sessions.GetInfoAsync(name, cancellationToken: cts.Token)).Status);

        var result = await client.Sessions.ExecuteAsync(name, new ExecuteRequest(ExecuteMode.Query, "print(1)", null), cts.Token);
        while (!result.IsFinished)
            result = await client.Sessions.ExecuteAsync(name, new ExecuteRequest(ExecuteMode.Continue, "", result.RunId), cts.Token);
        Assert.Equal("finished", result.Status);
        Assert.False(string.IsNullOrEmpty(result.RunId));

        await client.Sessions.UploadAsync(name, [new UploadFile("sub/hello.txt", () => new MemoryStream(Encoding.UTF8.GetBytes("hello")))], cts.Token);
        var listing = await client.Sessions.ListFilesAsync(name, "sub", cts.Token);
        Assert.Contains(listing, f => f.FileName == "hello.txt" && f.Size == 5);

        var destroyed = await client.Sessions.DestroyAsync(name, cancellationToken: cts.Token);
        Assert.NotNull(destroyed.Stats.ToString());
        await Assert.ThrowsAsync<SessionNotFoundException>(async () =>
        {
            // Terminated sessions are not found; poll briefly while termination completes.
            for (var i = 0; i < 200; i++)
            {
                await client.Sessions.GetInfoAsync(name, cancellationToken: cts.Token);
                await Task.Delay(50, cts.Token);
            }
        });
    }

    [Fact]
    public async Task Session_events_arrive_for_a_session_created_after_the_stream_opened()
    {
        await using var client = NewClient();
        var name = "e2e-" + Guid.NewGuid().ToString("N")[..8];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var reader = await client.Events.OpenSessionEventsAsync(new SessionEventFilter(name), cts.Token);
        var create = client.Sessions.CreateAsync(new SessionCreateRequest { Image = "sim", Name = name }, cts.Token);
        var names = new List<string>();
        while (await reader.ReadAsync(cts.Token) is { } m)
        {
            if (m.Event == "message" && m.Data.Length == 0) continue;
            var e = SessionEvent.Parse(m);
            Assert.Equal(name, e.SessionName);
            names.Add(e.Name);
            if (e.Name == "session_started") break;
        }
        await create;
        Assert.Equal("session_enqueued", names[0]);
        Assert.Equal("session_started", names[^1]);
        await client.Sessions.DestroyAsync(name, cancellationToken: cts.Token);
    }

    [Fact]
    public async Task A_wrong_secret_is_rejected_as_authentication_failure()
    {
        await using var client = NewClient("not-the-secret");
        var ex = await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.Sessions.MatchAsync("x"));
        Assert.Equal(401, ex.Status);
        Assert.DoesNotContain("not-the-secret", ex.ToString());
    }
}
