using System.Text.Json.Nodes;
using BackendAI.Client.Config;
using BackendAI.Client.Errors;
using BackendAI.Client.Models;
using BackendAI.Client.Sessions;
using BackendAI.Local.Hosting;
using BackendAI.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BackendAI.Client.Tests.EndToEnd;

/// <summary><see cref="SessionTemplatesApi"/> and <see cref="SessionsApi.CreateFromTemplateAsync"/> against BackendAI.Local.</summary>
public class SessionTemplatesEndToEndTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>
{
    private BackendAIClient NewClient(LocalKeypair keypair) => new(new BackendAIClientOptions
    {
        Endpoints = [fx.Endpoint],
        AccessKey = keypair.AccessKey,
        SecretKey = keypair.SecretKey,
    });

    private static string NewName() => "ct-" + Guid.NewGuid().ToString("N")[..10];

    private static JsonObject Template(string image, string tag, string type = "interactive", string? startup = null)
    {
        var kernel = new JsonObject { ["image"] = image, ["environ"] = new JsonObject { ["GREETING"] = "hi" } };
        if (startup is not null) kernel["run"] = new JsonObject { ["startup_command"] = startup };
        return new JsonObject
        {
            ["api_version"] = "v1",
            ["kind"] = "taskTemplate",
            ["metadata"] = new JsonObject { ["name"] = NewName(), ["tag"] = tag },
            ["spec"] = new JsonObject { ["session_type"] = type, ["kernel"] = kernel },
        };
    }

    [Fact]
    public async Task Templates_round_trip_and_a_session_starts_from_one()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var client = NewClient(WellKnownKeypairs.User);
        var name = NewName();

        var id = await client.SessionTemplates.CreateAsync(SessionTemplatesApi.BuildPayload(Template("sim", "v1-tag"), name), cancellationToken: cts.Token);
        var listed = await client.SessionTemplates.ListAsync(cancellationToken: cts.Token);
        var item = Assert.Single(listed, t => t.Id == id);
        Assert.Equal(name, item.Name);
        Assert.True(item.IsOwner);
        Assert.Equal(WellKnownKeypairs.User.Email, item.UserEmail);

        var got = await client.SessionTemplates.GetAsync(id, cancellationToken: cts.Token);
        Assert.Equal(name, got.Name);
        Assert.Equal("sim", got.Template.GetProperty("spec").GetProperty("kernel").GetProperty("image").GetString());
        Assert.Equal(WellKnownKeypairs.User.UserId.ToString(), got.UserId);

        var session = NewName();
        var created = await client.Sessions.CreateFromTemplateAsync(id, new SessionCreateRequest { Name = session }, cts.Token);
        Assert.True(created.Created);
        Assert.Equal("RUNNING", created.Status);
        Assert.Equal(session, created.SessionName);
        var info = await client.Sessions.GetInfoAsync(session, cancellationToken: cts.Token);
        Assert.Equal("v1-tag", info.Tag);
        Assert.Equal("cr.backend.ai/stable/sim:latest", info.Image);
        await client.Sessions.DestroyAsync(session, cancellationToken: cts.Token);

        await client.SessionTemplates.UpdateAsync(id, SessionTemplatesApi.BuildPayload(Template("bash", "v2-tag"), name), cancellationToken: cts.Token);
        got = await client.SessionTemplates.GetAsync(id, cancellationToken: cts.Token);
        Assert.Equal("bash", got.Template.GetProperty("spec").GetProperty("kernel").GetProperty("image").GetString());

        await client.SessionTemplates.DeleteAsync(id, cancellationToken: cts.Token);
        var missing = await Assert.ThrowsAsync<BackendApiException>(() => client.SessionTemplates.GetAsync(id, cancellationToken: cts.Token));
        Assert.Equal(404, missing.Status);
        Assert.Equal("No such task template.", missing.Title);
        var fromGone = await Assert.ThrowsAsync<BackendApiException>(() =>
            client.Sessions.CreateFromTemplateAsync(id, new SessionCreateRequest { Name = NewName() }, cts.Token));
        Assert.IsNotType<SessionNotFoundException>(fromGone);
        Assert.Equal(404, fromGone.Status);
    }

    [Fact]
    public async Task Create_from_a_batch_template_without_overrides_keeps_it_a_batch_session()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var client = NewClient(WellKnownKeypairs.User);
        var id = await client.SessionTemplates.CreateAsync(
            SessionTemplatesApi.BuildPayload(Template("bash", "batch-tag", "batch", "exit 0")), cancellationToken: cts.Token);
        var created = await client.Sessions.CreateFromTemplateAsync(id, new SessionCreateRequest { Name = NewName() }, cts.Token);
        var sessionId = Guid.Parse(created.SessionId);
        var sessions = fx.Backend.Services.GetRequiredService<ISessionQuerySource>();
        while (sessions.Find(sessionId)!.Status != "TERMINATED")
            await Task.Delay(20, cts.Token);
        var view = sessions.Find(sessionId)!;
        Assert.Equal("BATCH", view.Type);
        Assert.Equal("SUCCESS", view.Result);
    }

    [Fact]
    public async Task A_yaml_payload_is_accepted_and_overrides_win_over_template_values()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var client = NewClient(WellKnownKeypairs.User);
        const string yaml = """
            session_templates:
              - name: yaml-from-client
                template:
                  api_version: v1
                  kind: taskTemplate
                  metadata: {name: ignored, tag: yaml-tag}
                  spec:
                    kernel: {image: sim}
            """;
        var id = await client.SessionTemplates.CreateAsync(yaml, cancellationToken: cts.Token);
        Assert.Equal("yaml-from-client", (await client.SessionTemplates.GetAsync(id, cancellationToken: cts.Token)).Name);
        var session = NewName();
        await client.Sessions.CreateFromTemplateAsync(id, new SessionCreateRequest { Name = session, Tag = "override-tag" }, cts.Token);
        Assert.Equal("override-tag", (await client.Sessions.GetInfoAsync(session, cancellationToken: cts.Token)).Tag);
        await client.Sessions.DestroyAsync(session, cancellationToken: cts.Token);
    }
}
