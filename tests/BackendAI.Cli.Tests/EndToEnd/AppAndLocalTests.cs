using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace BackendAI.Cli.Tests.EndToEnd;

public partial class AppAndLocalTests(CliServerFixture server) : IClassFixture<CliServerFixture>
{
    [GeneratedRegex(@"tcp://127\.0\.0\.1:(\d+)/")]
    private static partial Regex ProxyUrl();

    [GeneratedRegex(@"listening on (http://\S+?)/? ")]
    private static partial Regex ServerUrl();

    [Fact]
    public async Task App_forwards_a_local_port_to_the_session_http_service_one_tunnel_per_connection()
    {
        var name = "app-" + Guid.NewGuid().ToString("N")[..8];
        await server.CreateSessionAsync(server.Admin, "python:3.9-ubuntu20.04", name);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = new WatchedWriter();
        try
        {
            var dir = Directory.CreateTempSubdirectory("cli-app-").FullName;
            await File.WriteAllTextAsync(Path.Combine(dir, "hello.txt"), "served through the tunnel\n");
            Assert.Equal(0, (await server.RunInAsync("", dir, "upload", name, "hello.txt")).ExitCode);

            var proxy = Cli.RunAsync(server.Environment(), ["app", name, "http", "-b", "127.0.0.1:0"], cancellationToken: cts.Token, stdout: stdout);
            await Task.WhenAny(stdout.WaitForAsync("tcp://", TimeSpan.FromSeconds(30)), proxy);
            if (proxy.IsCompleted)
            Assert.Fail((await proxy).ToString());
            var port = int.Parse(ProxyUrl().Match(stdout.ToString()).Groups[1].Value);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            for (var i = 0; i < 3; i++)
            {
                // A fresh connection each time: each one gets its own WebSocket tunnel.
                using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/hello.txt");
                request.Headers.ConnectionClose = true;
                using var response = await http.SendAsync(request, cts.Token);
                Assert.Equal("served through the tunnel\n", await response.Content.ReadAsStringAsync(cts.Token));
            }

            await cts.CancelAsync();
            var r = await proxy;
            Assert.True(r.ExitCode == 0, r.ToString());
        }
        finally
        {
            await server.RunAsync("rm", name);
        }
    }

    [Fact]
    public async Task App_rejects_a_service_the_session_does_not_offer()
    {
        var name = "app-" + Guid.NewGuid().ToString("N")[..8];
        await server.CreateSessionAsync(server.Admin, "python:3.9-ubuntu20.04", name);
        try
        {
            var r = await server.RunAsync("app", name, "jupyter", "-b", "0");
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("The app \"jupyter\" is not supported by the session.", r.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            await server.RunAsync("rm", name);
        }
    }

    [Fact]
    public async Task Local_serve_starts_the_embedded_server_until_cancelled()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stderr = new WatchedWriter();
        var dataDir = Directory.CreateTempSubdirectory("cli-local-").FullName;
        var serve = Cli.RunAsync(new Dictionary<string, string?>(), ["local", "serve", "--port", "0", "--data-dir", dataDir],
            cancellationToken: cts.Token, stderr: stderr);
        await Task.WhenAny(stderr.WaitForAsync("listening on", TimeSpan.FromSeconds(30)), serve);
        if (serve.IsCompleted)
            Assert.Fail((await serve).ToString());
        var endpoint = ServerUrl().Match(stderr.ToString()).Groups[1].Value;

        using var http = new HttpClient();
        var hello = await http.GetFromJsonAsync<JsonElement>(endpoint.TrimEnd('/') + "/", cts.Token);
        Assert.Equal("v6.20220315", hello.GetProperty("version").GetString());

        await cts.CancelAsync();
        var r = await serve;
        Assert.True(r.ExitCode == 0, r.ToString());
    }
}
