using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using BackendAI.Client.Auth;
using BackendAI.Local.Hosting;
using BackendAI.Local.VFolders;
using BackendAI.Testing;
using Xunit;

namespace BackendAI.Local.Tests;

/// <summary>
/// Regression tests for what the official Python SDK (backend.ai-client 22.03) needed from the local server
/// (docs/python-compat.md). Each test sends the request exactly as the SDK builds it — its headers
/// (<c>User-Agent</c>, <c>X-BackendAI-Domain</c>, <c>X-BackendAI-Version</c>, microsecond ISO <c>Date</c>,
/// HMAC <c>Authorization</c>), its content types (<c>text/plain</c> with an empty body when there is no content,
/// <c>application/json</c> from <c>set_json</c>), its query strings and GraphQL documents — over loopback,
/// and asserts the response shape the SDK reads.
/// </summary>
public sealed class PythonClientCompatTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task VFolder_list_all_hosts_answers_default_and_allowed_to_a_superadmin()
    {
        using var sdk = new PythonSdkWire(fx.Endpoint, WellKnownKeypairs.SuperAdmin);
        using var response = await sdk.SendAsync(HttpMethod.Get, "/folders/_/all_hosts");
        var body = await PythonSdkWire.JsonAsync(response, HttpStatusCode.OK);
        Assert.Equal(VFolderConstants.DefaultHost, body["default"]!.GetValue<string>());
        Assert.Contains(VFolderConstants.DefaultHost, body["allowed"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task VFolder_list_all_hosts_is_forbidden_to_a_plain_user()
    {
        using var sdk = new PythonSdkWire(fx.Endpoint, WellKnownKeypairs.User);
        using var response = await sdk.SendAsync(HttpMethod.Get, "/folders/_/all_hosts");
        var body = await PythonSdkWire.JsonAsync(response, HttpStatusCode.Forbidden);
        Assert.EndsWith("/generic-forbidden", body["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Admin_keypair_list_query_with_user_info_full_name_resolves()
    {
        // KeyPair.paginated_list() with the CLI's keypair fields, through pagination.execute_paginated_query
        const string Query = """
            query($limit:Int!, $offset:Int!, $is_active: Boolean, $domain_name: String) {
              keypair_list(
                  limit:$limit, offset:$offset, is_active:$is_active, domain_name:$domain_name) {
                items { user_id user_info { full_name } access_key secret_key is_active is_admin created_at last_used resource_policy rate_limit concurrency_limit concurrency_used }
                total_count
              }
            }
            """;
        var data = await GqlAsync(WellKnownKeypairs.SuperAdmin, Query,
            new JsonObject { ["is_active"] = true, ["domain_name"] = null, ["limit"] = 20, ["offset"] = 0 });
        var items = data["keypair_list"]!["items"]!.AsArray();
        var admin = items.Single(i => i!["access_key"]!.GetValue<string>() == WellKnownKeypairs.SuperAdmin.AccessKey)!;
        var userInfo = Assert.IsType<JsonObject>(admin["user_info"]);
        Assert.True(userInfo.ContainsKey("full_name"));
        Assert.Equal("admin@lablup.com", admin["user_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Keypair_user_info_also_answers_the_email()
    {
        var data = await GqlAsync(WellKnownKeypairs.User, "query {  keypair {    access_key user_info { email full_name }  }}", null);
        Assert.Equal("user@lablup.com", data["keypair"]!["user_info"]!["email"]!.GetValue<string>());
    }

    [Fact]
    public async Task Admin_agent_list_query_with_the_legacy_cpu_and_memory_fields_resolves()
    {
        // Agent.paginated_list() with the CLI's agent fields (output/fields.py agent_fields)
        const string Query = """
            query($limit:Int!, $offset:Int!, $status: String, $scaling_group: String, $filter: String, $order: String) {
              agent_list(
                  limit:$limit, offset:$offset, status:$status, scaling_group:$scaling_group, filter:$filter, order:$order) {
                items { id status scaling_group available_slots occupied_slots hardware_metadata live_stat cpu_cur_pct mem_cur_bytes addr region first_contact cpu_slots mem_slots used_cpu_slots used_mem_slots }
                total_count
              }
            }
            """;
        var data = await GqlAsync(WellKnownKeypairs.SuperAdmin, Query, new JsonObject
        {
            ["status"] = "ALIVE", ["scaling_group"] = null, ["filter"] = null, ["order"] = null, ["limit"] = 20, ["offset"] = 0,
        });
        var agent = data["agent_list"]!["items"]!.AsArray().Single()!;
        Assert.Equal("ALIVE", agent["status"]!.GetValue<string>());
        Assert.True(agent["cpu_cur_pct"]!.GetValue<double>() >= 0);
        Assert.True(agent["mem_cur_bytes"]!.GetValue<double>() >= 0);
        Assert.True(agent["cpu_slots"]!.GetValue<double>() > 0, "the local agent reports its CPUs");
        Assert.True(agent["mem_slots"]!.GetValue<int>() > 0, "the local agent reports its memory (MiB)");
    }

    [Fact]
    public async Task Task_logs_without_a_dot_logs_vfolder_answer_404_no_such_vfolder()
    {
        using var sdk = new PythonSdkWire(fx.Endpoint, WellKnownKeypairs.DomainAdmin);
        using var response = await sdk.SendAsync(HttpMethod.Get, $"/session/_/logs?taskId={Guid.NewGuid():D}");
        var body = await PythonSdkWire.JsonAsync(response, HttpStatusCode.NotFound);
        Assert.EndsWith("/object-not-found", body["type"]!.GetValue<string>());
        Assert.Equal("No such vfolder.", body["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task Task_logs_reject_a_task_id_that_is_not_a_uuid()
    {
        using var sdk = new PythonSdkWire(fx.Endpoint, WellKnownKeypairs.User);
        using var response = await sdk.SendAsync(HttpMethod.Get, "/session/_/logs?taskId=not-a-uuid");
        var body = await PythonSdkWire.JsonAsync(response, HttpStatusCode.BadRequest);
        Assert.EndsWith("/invalid-api-params", body["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Task_logs_of_a_batch_session_stream_what_its_startup_command_printed()
    {
        using var sdk = new PythonSdkWire(fx.Endpoint, WellKnownKeypairs.User);
        await EnsureLogsFolderAsync(sdk);
        var id = await RunBatchSessionAsync(sdk, "echo batch-$((40+2)); echo to-stderr >&2");

        using var response = await sdk.SendAsync(HttpMethod.Get, $"/session/_/logs?taskId={id:D}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("batch-42", text);
        Assert.Contains("to-stderr", text);

        // GET /session/{id}/logs (ComputeSession.get_logs) shows the same console output
        using var logs = await sdk.SendAsync(HttpMethod.Get, $"/session/{id:D}/logs");
        var body = await PythonSdkWire.JsonAsync(logs, HttpStatusCode.OK);
        Assert.Contains("batch-42", body["result"]!["logs"]!.GetValue<string>());
    }

    [Fact]
    public async Task Task_logs_prefer_the_file_in_the_dot_logs_vfolder()
    {
        using var sdk = new PythonSdkWire(fx.Endpoint, WellKnownKeypairs.SuperAdmin);
        await EnsureLogsFolderAsync(sdk);
        var taskId = Guid.NewGuid();
        var store = fx.Backend.Services.GetRequiredService<VFolderStore>();
        var folder = store.FindAccessible(WellKnownKeypairs.SuperAdmin.ToIdentity(), BackendAI.Local.Sessions.SessionRegistry.TaskLogFolder)!.Folder;
        var hex = taskId.ToString("N");
        var dir = Path.Combine(store.RootOf(folder), "task", hex[..2], hex[2..4]);
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, hex[4..] + ".log"), "stored by an agent\n");

        using var response = await sdk.SendAsync(HttpMethod.Get, $"/session/_/logs?taskId={taskId:D}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("stored by an agent\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Task_logs_of_an_unknown_task_answer_404()
    {
        using var sdk = new PythonSdkWire(fx.Endpoint, WellKnownKeypairs.SuperAdmin);
        await EnsureLogsFolderAsync(sdk);
        using var response = await sdk.SendAsync(HttpMethod.Get, $"/session/_/logs?taskId={Guid.NewGuid():D}");
        var body = await PythonSdkWire.JsonAsync(response, HttpStatusCode.NotFound);
        Assert.EndsWith("/object-not-found", body["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Batch_mode_execute_output_of_an_interactive_session_stays_out_of_the_session_log()
    {
        using var sdk = new PythonSdkWire(fx.Endpoint, WellKnownKeypairs.User);
        var (id, name) = await fx.CreateSessionAsync(fx.User, image: "bash");
        var runId = Guid.NewGuid().ToString("N");
        var body = new JsonObject
        {
            ["mode"] = "batch", ["code"] = "", ["runId"] = runId,
            ["options"] = new JsonObject { ["clean"] = null, ["build"] = null, ["buildLog"] = false, ["exec"] = "echo exec-$((6*7))" },
        };
        var result = await PythonSdkWire.JsonAsync(await sdk.SendAsync(HttpMethod.Post, $"/session/{name}", body), HttpStatusCode.OK);
        var console = new StringBuilder(result["result"]!["console"]?.ToJsonString());
        using var deadline = new CancellationTokenSource(s_wait);
        while (result["result"]!["status"]!.GetValue<string>() != "finished")
        {
            deadline.Token.ThrowIfCancellationRequested();
            var more = new JsonObject { ["mode"] = "continue", ["code"] = "", ["runId"] = runId };
            result = await PythonSdkWire.JsonAsync(await sdk.SendAsync(HttpMethod.Post, $"/session/{name}", more), HttpStatusCode.OK);
            console.Append(result["result"]!["console"]?.ToJsonString());
        }

        Assert.Contains("exec-42", console.ToString());

        // the session log is the kernel's own output (sessions.md §12.3), not the output of individual runs
        using var logs = await sdk.SendAsync(HttpMethod.Get, $"/session/{id:D}/logs");
        var text = (await PythonSdkWire.JsonAsync(logs, HttpStatusCode.OK))["result"]!["logs"]!.GetValue<string>();
        Assert.DoesNotContain("exec-42", text);
    }

    private async Task<JsonObject> GqlAsync(LocalKeypair keypair, string query, JsonObject? variables)
    {
        using var sdk = new PythonSdkWire(fx.Endpoint, keypair);
        using var response = await sdk.SendAsync(HttpMethod.Post, "/admin/gql",
            new JsonObject { ["query"] = query, ["variables"] = variables ?? new JsonObject() });
        var body = await PythonSdkWire.JsonAsync(response, HttpStatusCode.OK);
        Assert.True(body["errors"] is null || body["errors"]!.AsArray().Count == 0, $"GraphQL errors: {body["errors"]}");
        return body["data"]!.AsObject();
    }

    /// <summary><c>VFolder.create(".logs")</c> as the SDK sends it; an existing folder is fine.</summary>
    private static async Task EnsureLogsFolderAsync(PythonSdkWire sdk)
    {
        using var response = await sdk.SendAsync(HttpMethod.Post, "/folders", new JsonObject
        {
            ["name"] = BackendAI.Local.Sessions.SessionRegistry.TaskLogFolder, ["host"] = null, ["unmanaged_path"] = null, ["group"] = null,
            ["usage_mode"] = "general", ["permission"] = "rw", ["quota"] = "0", ["cloneable"] = false,
        });
        if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
            Assert.Contains("already", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// <c>ComputeSession.get_or_create(image, type_="batch", startup_command=…, enqueue_only=True)</c> with the SDK's
    /// full body, then <c>listen_events()</c> until the batch result arrives; returns the session id.
    /// </summary>
    private async Task<Guid> RunBatchSessionAsync(PythonSdkWire sdk, string command)
    {
        var name = "pysdk-" + Guid.NewGuid().ToString("N")[..10];
        var create = new JsonObject
        {
            ["tag"] = null, ["name"] = name,
            ["config"] = new JsonObject
            {
                ["mounts"] = new JsonArray(), ["environ"] = null, ["resources"] = new JsonObject(), ["resource_opts"] = new JsonObject(),
                ["scalingGroup"] = null, ["mount_map"] = new JsonObject(), ["preopen_ports"] = null,
            },
            ["clusterSize"] = 1, ["clusterMode"] = "single-node", ["starts_at"] = null, ["bootstrap_script"] = null,
            ["owner_access_key"] = null, ["domain"] = "default", ["group"] = "default", ["type"] = "batch",
            ["enqueueOnly"] = true, ["maxWaitSeconds"] = 0, ["reuseIfExists"] = true, ["startupCommand"] = command,
            ["image"] = "bash",
        };
        var created = await PythonSdkWire.JsonAsync(await sdk.SendAsync(HttpMethod.Post, "/session", create), HttpStatusCode.Created);
        var id = Guid.Parse(created["sessionId"]!.GetValue<string>());

        using var cts = new CancellationTokenSource(s_wait);
        using var events = await sdk.SendAsync(HttpMethod.Get, $"/events/session?sessionId={id:D}&scope=*", null,
            HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        using var reader = new SseReader(await events.Content.ReadAsStreamAsync(cts.Token));
        await reader.ReadUntilAsync("session_terminated", cts.Token);
        return id;
    }
}

/// <summary>
/// Requests shaped exactly like the Python SDK's <c>Request.fetch()</c> (client-py 22.03): the SDK's
/// default headers, <c>text/plain</c> + empty body for requests without content, <c>application/json</c> from
/// <c>set_json</c>, and the HMAC signature over the method, relative URL, date, host, content type and version.
/// </summary>
internal sealed class PythonSdkWire(Uri endpoint, LocalKeypair keypair) : IDisposable
{
    public const string UserAgent = "Backend.AI Client for Python 22.03.1";
    public const string ApiVersion = "v6.20220315";

    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = Timeout.InfiniteTimeSpan };

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string pathAndQuery, JsonNode? json = null,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(endpoint, pathAndQuery);
        var content = new ByteArrayContent(json is null ? [] : Encoding.UTF8.GetBytes(json.ToJsonString()));
        content.Headers.ContentType = new MediaTypeHeaderValue(json is null ? "text/plain" : "application/json");
        var request = new HttpRequestMessage(method, uri) { Content = content };
        var date = RequestSigner.FormatDate(DateTimeOffset.UtcNow);
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        request.Headers.TryAddWithoutValidation("X-BackendAI-Domain", "default");
        request.Headers.TryAddWithoutValidation("X-BackendAI-Version", ApiVersion);
        request.Headers.TryAddWithoutValidation("Date", date);
        var signer = new RequestSigner(keypair.AccessKey, keypair.SecretKey, SignatureHash.Sha256);
        request.Headers.TryAddWithoutValidation("Authorization", signer.Authorization(
            new SignatureInput(method.Method, uri.PathAndQuery, date, uri.Authority, content.Headers.ContentType.MediaType!, ApiVersion)));
        return _http.SendAsync(request, completion, cancellationToken);
    }

    /// <summary>Reads a JSON object body, failing with the body text when the status differs.</summary>
    public static async Task<JsonObject> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public void Dispose() => _http.Dispose();
}
