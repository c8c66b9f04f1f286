using Akka;
using Akka.Actor;
using BackendAI.Actors.Sessions;
using BackendAI.Actors.Tests.Fakes;
using BackendAI.Actors.Transfers;
using BackendAI.Client;
using BackendAI.Client.Errors;
using Xunit.Abstractions;

namespace BackendAI.Actors.Tests.Sessions;

public sealed class SessionActorSpec(ITestOutputHelper output)
    : BackendAISpec(output, "backendai.session.reconcile-interval = 300ms\nbackendai.session.restart-backoff.min-backoff = 100ms")
{
    private readonly FakeSessionApi _api = new();

    private (IActorRef Actor, Akka.TestKit.TestProbe Transitions) Start(string id, SessionStatus? serverStatus, TimeSpan? maxWait = null)
    {
        if (serverStatus is { } s) _api.SetStatus(id, s);
        var transitions = CreateTestProbe();
        Sys.EventStream.Subscribe(transitions, typeof(SessionTransitioned));
        var transfers = Sys.ActorOf(TransferActor.Props(_api, Settings.Transfer));
        var actor = Sys.ActorOf(SessionActor.Props(id, "name-" + id, _api, Settings.Session, Settings.RunLoop, transfers, maxWait));
        return (actor, transitions);
    }

    private static Task<SessionTransitioned> ExpectTransition(Akka.TestKit.TestProbe probe, SessionStatus? previous, SessionStatus current) =>
        probe.ExpectMsgAsync<SessionTransitioned>(t => Assert.Equal((previous, current), (t.Previous, t.Current)), TimeSpan.FromSeconds(5)).AsTask();

    [Fact]
    public async Task SessionActor_should_rebuild_its_state_from_the_server_when_it_starts()
    {
        var (actor, transitions) = Start("s1", SessionStatus.Preparing);
        var t = await ExpectTransition(transitions, null, SessionStatus.Preparing);
        Assert.Equal("reconcile", t.Cause);
        actor.Tell(new GetSessionSnapshot("s1"));
        var snap = await ExpectMsgAsync<SessionSnapshot>();
        Assert.Equal(SessionStatus.Preparing, snap.Status);
    }

    [Fact]
    public async Task SessionActor_should_stash_commands_until_running_then_run_them_in_order()
    {
        var (actor, transitions) = Start("s2", SessionStatus.Pending);
        await ExpectTransition(transitions, null, SessionStatus.Pending);
        actor.Tell(new ListFiles("s2", "first"));
        actor.Tell(new InterruptSession("s2"));
        actor.Tell(new ListFiles("s2", "second"));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Assert.DoesNotContain(_api.Calls, c => c.StartsWith("list", StringComparison.Ordinal) || c == "interrupt");

        actor.Tell(new SessionEventObserved("s2", FakeSessionApi.Event("session_scheduled", "s2")));
        actor.Tell(new SessionEventObserved("s2", FakeSessionApi.Event("session_started", "s2")));
        await ExpectTransition(transitions, SessionStatus.Pending, SessionStatus.Scheduled);
        await ExpectTransition(transitions, SessionStatus.Scheduled, SessionStatus.Running);
        Assert.Single((await ExpectMsgAsync<FilesListed>()).Entries);
        await ExpectMsgAsync<Done>();
        await ExpectMsgAsync<FilesListed>();
        Assert.Equal(["list:first", "interrupt", "list:second"], _api.Calls.Where(c => c != "create").ToArray());
    }

    [Fact]
    public async Task SessionActor_should_fail_waiting_commands_with_SessionStartTimeoutException_when_max_wait_passes()
    {
        var (actor, transitions) = Start("s3", SessionStatus.Pending, maxWait: TimeSpan.FromMilliseconds(400));
        await ExpectTransition(transitions, null, SessionStatus.Pending);
        actor.Tell(new ListFiles("s3", "."));
        var failure = await ExpectMsgAsync<Status.Failure>(TimeSpan.FromSeconds(5));
        var ex = Assert.IsType<SessionStartTimeoutException>(failure.Cause);
        Assert.Equal(SessionStatus.Pending, ex.LastStatus);

        // Later commands before RUNNING fail at once; after RUNNING they work again.
        actor.Tell(new ListFiles("s3", "."));
        Assert.IsType<SessionStartTimeoutException>((await ExpectMsgAsync<Status.Failure>()).Cause);
        actor.Tell(new SessionEventObserved("s3", FakeSessionApi.Event("session_started", "s3")));
        actor.Tell(new ListFiles("s3", "."));
        await ExpectMsgAsync<FilesListed>();
    }

    [Fact]
    public async Task SessionActor_should_refuse_commands_with_SessionStateException_once_terminated()
    {
        var (actor, transitions) = Start("s4", SessionStatus.Running);
        await ExpectTransition(transitions, null, SessionStatus.Running);
        actor.Tell(new SessionEventObserved("s4", FakeSessionApi.Event("kernel_terminating", "s4")));
        actor.Tell(new SessionEventObserved("s4", FakeSessionApi.Event("session_terminated", "s4")));
        await ExpectTransition(transitions, SessionStatus.Running, SessionStatus.Terminating);
        await ExpectTransition(transitions, SessionStatus.Terminating, SessionStatus.Terminated);

        actor.Tell(new StartRun("s4", new ExecuteRequest(ExecuteMode.Query, "print(1)", null)));
        var ex = Assert.IsType<SessionStateException>((await ExpectMsgAsync<Status.Failure>()).Cause);
        Assert.Equal(SessionStatus.Terminated, ex.Status);
        actor.Tell(new DestroySession("s4", false));   // destroying a gone session is a no-op
        await ExpectMsgAsync<Done>();

        // Terminal is final: late or replayed events change nothing.
        actor.Tell(new SessionEventObserved("s4", FakeSessionApi.Event("session_started", "s4")));
        await transitions.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task SessionActor_should_fail_stashed_commands_when_the_session_is_cancelled_before_running()
    {
        var (actor, transitions) = Start("s5", SessionStatus.Pending);
        await ExpectTransition(transitions, null, SessionStatus.Pending);
        actor.Tell(new ListFiles("s5", "."));
        actor.Tell(new SessionEventObserved("s5", FakeSessionApi.Event("session_cancelled", "s5", reason: "failed-to-start")));
        await ExpectTransition(transitions, SessionStatus.Pending, SessionStatus.Cancelled);
        var ex = Assert.IsType<SessionStateException>((await ExpectMsgAsync<Status.Failure>()).Cause);
        Assert.Equal(SessionStatus.Cancelled, ex.Status);
    }

    [Fact]
    public async Task SessionActor_should_publish_each_transition_once_despite_duplicate_events()
    {
        var (actor, transitions) = Start("s6", SessionStatus.Pending);
        await ExpectTransition(transitions, null, SessionStatus.Pending);
        foreach (var name in new[] { "session_enqueued", "session_started", "session_started", "session_scheduled", "kernel_preparing" })
            actor.Tell(new SessionEventObserved("s6", FakeSessionApi.Event(name, "s6")));
        await ExpectTransition(transitions, SessionStatus.Pending, SessionStatus.Running);
        await transitions.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(400));
    }

    [Fact]
    public async Task SessionActor_should_notice_a_missed_termination_on_its_reconcile_timer()
    {
        var (_, transitions) = Start("s7", SessionStatus.Running);
        await ExpectTransition(transitions, null, SessionStatus.Running);
        _api.Remove("s7");   // gone on the server; no event ever arrives
        var t = await ExpectTransition(transitions, SessionStatus.Running, SessionStatus.Terminated);
        Assert.Equal("reconcile:404", t.Cause);
    }

    [Fact]
    public async Task SessionActor_should_read_a_404_before_running_as_cancelled()
    {
        var (actor, transitions) = Start("s8", SessionStatus.Pending);
        await ExpectTransition(transitions, null, SessionStatus.Pending);
        _api.Remove("s8");
        actor.Tell(new ReconcileSession("s8"));
        await ExpectTransition(transitions, SessionStatus.Pending, SessionStatus.Cancelled);
    }

    [Fact]
    public async Task SessionActor_should_stop_following_and_surface_the_error_when_authentication_fails()
    {
        var failures = CreateTestProbe();
        Sys.EventStream.Subscribe(failures, typeof(SessionFailed));
        var (actor, transitions) = Start("s9", SessionStatus.Pending);
        await ExpectTransition(transitions, null, SessionStatus.Pending);
        actor.Tell(new ListFiles("s9", "."));
        var auth = new BackendApiException(401, "Unauthorized", "https://api.backend.ai/probs/auth-failed", "Authentication failed.");
        _api.FailInfo("s9", auth);
        actor.Tell(new ReconcileSession("s9"));
        Assert.Same(auth, (await failures.ExpectMsgAsync<SessionFailed>()).Cause);
        Assert.Same(auth, (await ExpectMsgAsync<Status.Failure>()).Cause);
        actor.Tell(new InterruptSession("s9"));
        Assert.Same(auth, (await ExpectMsgAsync<Status.Failure>()).Cause);
    }

    [Fact]
    public async Task SessionActor_should_allow_destroy_before_running_without_waiting()
    {
        var (actor, transitions) = Start("s10", SessionStatus.Pending);
        await ExpectTransition(transitions, null, SessionStatus.Pending);
        actor.Tell(new DestroySession("s10", false));
        await ExpectMsgAsync<Done>();
        await ExpectTransition(transitions, SessionStatus.Pending, SessionStatus.Cancelled);
    }
}
