using Akka;
using Akka.Actor;
using BackendAI.Actors.Sessions;
using BackendAI.Actors.Tests.Fakes;
using BackendAI.Actors.Transfers;
using Xunit.Abstractions;

namespace BackendAI.Actors.Tests.Hosting;

public sealed class TransferSpec(ITestOutputHelper output)
    : BackendAISpec(output, "backendai.transfer { max-concurrent = 2, queue-size = 2 }")
{
    [Fact]
    public async Task Transfers_run_at_most_max_concurrent_at_once_queue_the_rest_and_refuse_beyond_the_queue()
    {
        var api = new FakeSessionApi();
        var running = 0;
        var peak = 0;
        var gates = new List<TaskCompletionSource>();
        api.OnUpload = (_, _, _, _) =>
        {
            var now = Interlocked.Increment(ref running);
            lock (gates)
            {
                peak = Math.Max(peak, now);
                var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                gates.Add(tcs);
                return tcs.Task.ContinueWith(_ => Interlocked.Decrement(ref running), TaskScheduler.Default);
            }
        };
        var transfers = Sys.ActorOf(TransferActor.Props(api, Settings.Transfer));
        for (var i = 0; i < 5; i++) transfers.Tell(new UploadFiles("s", [$"f{i}"]));

        // 2 run, 2 wait, the 5th is refused at once with a clear error.
        var refused = await ExpectMsgAsync<Status.Failure>();
        Assert.Contains("backendai.transfer.queue-size", refused.Cause.Message);
        await AwaitConditionAsync(() => Task.FromResult(Volatile.Read(ref running) == 2));

        for (var done = 0; done < 4; done++)
        {
            await AwaitConditionAsync(() => Task.FromResult(gates.Count > done));
            lock (gates) gates[done].TrySetResult();
            await ExpectMsgAsync<Done>();
        }
        Assert.Equal(2, peak);
        Assert.Equal(4, api.Calls.Count(c => c == "upload"));
    }

    [Fact]
    public async Task Transfer_failures_reach_the_caller_unwrapped()
    {
        var api = new FakeSessionApi { OnUpload = (_, _, _, _) => Task.FromException(new FileNotFoundException("missing.txt")) };
        var transfers = Sys.ActorOf(TransferActor.Props(api, Settings.Transfer));
        transfers.Tell(new UploadFiles("s", ["missing.txt"]));
        Assert.IsType<FileNotFoundException>((await ExpectMsgAsync<Status.Failure>()).Cause);
    }
}
