using Akka.Actor;
using BackendAI.Actors.Sessions;
using BackendAI.Actors.Tests.Fakes;
using BackendAI.Actors.Transfers;
using BackendAI.Client.Errors;
using Xunit.Abstractions;

namespace BackendAI.Actors.Tests.Sessions;

public sealed class SessionManagerSpec(ITestOutputHelper output)
    : BackendAISpec(output, "backendai.session.restart-backoff.min-backoff = 50ms\nbackendai.session.reconcile-interval = 10m")
{
    private readonly FakeSessionApi _api = new();

    private IActorRef Manager() =>
        Sys.ActorOf(SessionManager.Props(_api, Settings, Sys.ActorOf(TransferActor.Props(_api, Settings.Transfer))));

    [Fact]
    public async Task Supervision_restarts_a_session_after_a_network_failure_and_rebuilds_state_from_the_server()
    {
        var transitions = CreateTestProbe();
        Sys.EventStream.Subscribe(transitions, typeof(SessionTransitioned));
        _api.SetStatus("sup", SessionStatus.Pending);
        var manager = Manager();
        manager.Tell(new AttachSession("sup"));
        var registered = await ExpectMsgAsync<SessionRegistered>();
        await transitions.FishForMessageAsync<SessionTransitioned>(t => t.Current == SessionStatus.Pending);

        registered.Session.Tell(new ListFiles("sup", "."));   // waits for RUNNING; must survive the restart
        var infoCalls = _api.InfoCalls;
        _api.FailInfo("sup", new BackendConnectionException("connection refused"));
        registered.Session.Tell(new ReconcileSession("sup"));
        await AwaitConditionAsync(() => Task.FromResult(_api.InfoCalls > infoCalls));
        _api.SetStatus("sup", SessionStatus.Running);     // meanwhile the server moved on

        // A fresh incarnation: the first transition starts from "nothing known" (not from PENDING in memory).
        var t = await transitions.FishForMessageAsync<SessionTransitioned>(t => t.Current == SessionStatus.Running, TimeSpan.FromSeconds(5));
        Assert.Null(t.Previous);
        Assert.Equal("reconcile", t.Cause);
        await ExpectMsgAsync<FilesListed>();
    }

    [Fact]
    public async Task Manager_routes_events_by_session_id_and_by_name_and_reconciles_all_after_a_reconnect()
    {
        var transitions = CreateTestProbe();
        Sys.EventStream.Subscribe(transitions, typeof(SessionTransitioned));
        _api.NextCreate = new SessionCreateResult("11111111-1111-1111-1111-111111111111", "by-id", "PENDING", [], true);
        var manager = Manager();
        manager.Tell(new CreateSession("by-id", new SessionCreateRequest { Image = "sim", Name = "by-id" }, null));
        var created = await ExpectMsgAsync<SessionRegistered>();
        Assert.Equal(SessionStatus.Pending, created.Status);
        _api.SetStatus("named", SessionStatus.Pending);
        manager.Tell(new AttachSession("named"));
        await ExpectMsgAsync<SessionRegistered>();
        await transitions.FishForMessageAsync<SessionTransitioned>(t => t.SessionId == "named" && t.Current == SessionStatus.Pending);

        manager.Tell(new SessionEventObserved(created.SessionId, FakeSessionApi.Event("session_started", created.SessionId, "by-id")));
        await transitions.FishForMessageAsync<SessionTransitioned>(t => t.SessionId == created.SessionId && t.Current == SessionStatus.Running);
        manager.Tell(new SessionEventObserved("x", FakeSessionApi.Event("session_started", "22222222-0000-0000-0000-000000000000", "named")));
        await transitions.FishForMessageAsync<SessionTransitioned>(t => t.SessionId == "named" && t.Current == SessionStatus.Running);

        _api.Remove(created.SessionId);
        _api.Remove("named");
        manager.Tell(new EventStreamReconnected(2));
        var gone = new[]
        {
            await transitions.FishForMessageAsync<SessionTransitioned>(t => t.Current == SessionStatus.Terminated),
            await transitions.FishForMessageAsync<SessionTransitioned>(t => t.Current == SessionStatus.Terminated),
        };
        Assert.Equal(new[] { created.SessionId, "named" }.Order(), gone.Select(g => g.SessionId).Order());
    }

    [Fact]
    public async Task Create_status_TIMEOUT_is_read_as_still_queued_Client17()
    {
        _api.NextCreate = new SessionCreateResult("33333333-3333-3333-3333-333333333333", "slow", "TIMEOUT", [], true);
        Manager().Tell(new CreateSession("slow", new SessionCreateRequest { Image = "sim" }, null));
        Assert.Equal(SessionStatus.Pending, (await ExpectMsgAsync<SessionRegistered>()).Status);
    }

    [Fact]
    public async Task Attaching_an_unknown_session_fails_with_the_servers_404()
    {
        Manager().Tell(new AttachSession("nope"));
        var failure = await ExpectMsgAsync<Status.Failure>();
        Assert.Equal(404, Assert.IsAssignableFrom<BackendApiException>(failure.Cause).Status);
    }

    [Theory]
    [InlineData("network", "Restart")]
    [InlineData("5xx", "Restart")]
    [InlineData("auth", "Stop")]
    [InlineData("config", "Stop")]
    [InlineData("protocol", "Stop")]
    [InlineData("bug", "Restart")]
    public void Supervision_table_decides_per_failure_kind(string kind, string directive)
    {
        Exception ex = kind switch
        {
            "network" => new SessionReconcileException("s", new BackendConnectionException("refused")),
            "5xx" => new SessionReconcileException("s", new BackendApiException(503, "Service Unavailable", "t", "x")),
            "auth" => new BackendApiException(401, "Unauthorized", "https://api.backend.ai/probs/auth-failed", "x"),
            "config" => new BackendClientException("bad endpoint", "endpoint"),
            "protocol" => new BackendProtocolException("oversized frame"),
            _ => new NullReferenceException(),
        };
        Assert.Equal(Enum.Parse<Directive>(directive), SessionManager.Decide(ex));
    }
}
