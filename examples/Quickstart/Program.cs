// The BackendAI.Actors quickstart: start a python session, watch its lifecycle, run code with live
// output, answer input(), move files in and out, and clean up. With no BACKEND_ENDPOINT set it runs
// against the embedded local server; otherwise against your cluster (BACKEND_* variables).
using BackendAI.Actors;
using BackendAI.Client.Config;
using BackendAI.Client.Models;
using BackendAI.Local;

await using var local = Environment.GetEnvironmentVariable("BACKEND_ENDPOINT") is null
    ? await LocalBackend.StartAsync(new LocalBackendOptions()) // a free port and a temporary data directory
    : null;
var options = local is null
    ? BackendAIClientOptions.FromEnvironment()
    : new BackendAIClientOptions { Endpoints = [local.Endpoint], AccessKey = local.AdminKeypair.AccessKey, SecretKey = local.AdminKeypair.SecretKey };
Console.WriteLine(local is null
    ? $"Using the cluster at {string.Join(", ", options.Endpoints)}"
    : $"No BACKEND_ENDPOINT set: started the embedded local server at {local.Endpoint}");

try
{
    await using var runtime = BackendAIRuntime.Create(options);
    var name = $"quickstart-{Guid.NewGuid():N}"[..19];
    var lastEventPrinted = new TaskCompletionSource();
    using var lifecycle = runtime.Events.Subscribe(e =>
    {
        if (e.SessionName != name) return;
        Console.WriteLine($"  [event] {e.Name}");
        if (e.Name is "session_terminated" or "session_cancelled") lastEventPrinted.TrySetResult();
    });

    await using var session = await runtime.StartSessionAsync("python:3.9-ubuntu20.04", new SessionStartOptions { Name = name });
    Console.WriteLine($"Session {session.Name} is {session.CurrentStatus}");

    // Live output: records arrive while the code runs.
    await foreach (var record in session.Execute("import time\nfor i in range(3):\n    print(f'step {i}', flush=True)\n    time.sleep(0.2)"))
        Console.Write(record.Text);

    // input(): the provider answers each prompt (a person would type here).
    var answering = new ExecuteOptions
    {
        InputProvider = (prompt, _) =>
        {
            Console.WriteLine($"[input] answering \"{prompt.Prompt.Trim()}\" with Lablup");
            return ValueTask.FromResult("Lablup");
        },
    };
    await foreach (var record in session.Execute("name = input('What is your name? ')\nprint(f'Hello, {name}!')", answering))
        Console.Write(record.Text);

    // Files: upload a CSV, compute in the session, download the result.
    var work = Directory.CreateTempSubdirectory("quickstart-").FullName;
    var csv = Path.Combine(work, "scores.csv");
    await File.WriteAllTextAsync(csv, "name,score\nalice,90\nbob,72\ncarol,85\n");
    await session.UploadAsync([csv]);
    var outcome = await session.ExecuteAsync("""
        import csv
        rows = list(csv.DictReader(open('scores.csv')))
        mean = sum(int(r['score']) for r in rows) / len(rows)
        with open('result.txt', 'w') as f:
            f.write(f'{len(rows)} rows, mean score {mean:.1f}\n')
        print('wrote result.txt')
        """);
    Console.Write(outcome.Stdout);
    var downloaded = await session.DownloadAsync(["result.txt"], work);
    Console.Write($"result.txt: {await File.ReadAllTextAsync(Path.Combine(work, downloaded[0]))}");

    await session.DestroyAsync();
    await session.WaitForStatusAsync(SessionStatuses.IsTerminal);
    // The status is authoritative; the event feed above runs on its own subscription, so give it a
    // moment to print the final lifecycle event before we finish.
    await Task.WhenAny(lastEventPrinted.Task, Task.Delay(TimeSpan.FromSeconds(5)));
    Console.WriteLine("Done.");
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"Quickstart failed: {e.GetType().Name}: {e.Message}");
    return 1;
}
