using System.IO.Pipelines;
using System.Text;
using BackendAI.Client.Errors;
using BackendAI.Client.Sse;
using BackendAI.Client.Tests.Transfers;
using Microsoft.AspNetCore.Http;

namespace BackendAI.Client.Tests.Sse;

/// <summary>Checklist client #21: the SSE wire format of streaming.md A.1.</summary>
public class SseEventReaderTests
{
    private const string SessionData =
        "{\"reason\": \"\", \"sessionName\": \"mysess\", \"ownerAccessKey\": \"AKIAIOSFODNN7EXAMPLE\", " +
        "\"sessionId\": \"5c3ad8c9-8f4e-4b57-9a2a-2f1c4a2e6d10\", \"kernelId\": \"5c3ad8c9-8f4e-4b57-9a2a-2f1c4a2e6d10\"}";

    private const string KernelData =
        "{\"reason\": \"\", \"sessionName\": \"mysess\", \"ownerAccessKey\": \"AKIAIOSFODNN7EXAMPLE\", " +
        "\"sessionId\": \"5c3ad8c9-8f4e-4b57-9a2a-2f1c4a2e6d10\", \"kernelId\": \"5c3ad8c9-8f4e-4b57-9a2a-2f1c4a2e6d10\", " +
        "\"clusterRole\": \"main\", \"clusterIdx\": 1}";

    private const string ProgressData =
        "{\"task_id\": \"9a0e6b3c-2f1d-4c5e-8a7b-6d5c4b3a2f10\", \"message\": null, \"current_progress\": 3, \"total_progress\": 10}";

    // Non-ASCII text so that split points also fall inside multi-byte UTF-8 characters.
    private const string DoneData = "{\"task_id\": \"9a0e6b3c-2f1d-4c5e-8a7b-6d5c4b3a2f10\", \"message\": \"rescanned ünïcödé ✓ 完了\"}";

    /// <summary>Bytes as the manager writes them: CRLF lines, keep-alive pings, bgtask events with retry.</summary>
    private static readonly byte[] Recorded = Encoding.UTF8.GetBytes(
        "event: session_enqueued\r\ndata: " + SessionData + "\r\n\r\n" +
        ": ping\r\n\r\n" +
        "event: kernel_preparing\r\ndata: " + KernelData + "\r\n\r\n" +
        "event: session_started\r\ndata: " + SessionData + "\r\n\r\n" +
        ": ping\r\n\r\n" +
        "event: bgtask_updated\r\ndata: " + ProgressData + "\r\nretry: 5\r\n\r\n" +
        "event: bgtask_done\r\ndata: " + DoneData + "\r\nretry: 5\r\n\r\n" +
        "event: server_close\r\ndata: {}\r\n\r\n");

    private static readonly SseMessage[] RecordedMessages =
    [
        new("session_enqueued", SessionData, null, null),
        new("kernel_preparing", KernelData, null, null),
        new("session_started", SessionData, null, null),
        new("bgtask_updated", ProgressData, null, 5),
        new("bgtask_done", DoneData, null, 5),
        new("server_close", "{}", null, null),
    ];

    private static async Task<List<SseMessage>> ReadAllAsync(Stream stream, SseParserOptions? options = null)
    {
        await using var reader = new SseEventReader(stream, options);
        var messages = new List<SseMessage>();
        while (await reader.ReadAsync() is { } message)
        {
            messages.Add(message);
        }

        return messages;
    }

    private static Task<List<SseMessage>> ParseAsync(string text, SseParserOptions? options = null) =>
        ReadAllAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), options);

    [Fact]
    public async Task Client21_parses_a_recorded_session_and_bgtask_stream()
    {
        var messages = await ReadAllAsync(new MemoryStream(Recorded));
        Assert.Equal(RecordedMessages, messages);
    }

    [Fact]
    public async Task Client21_parses_identically_when_split_into_two_chunks_at_every_byte()
    {
        for (var cut = 0; cut <= Recorded.Length; cut++)
        {
            var messages = await ReadAllAsync(ChunkedStream.Split(Recorded, cut));
            Assert.True(RecordedMessages.SequenceEqual(messages), $"split at byte {cut} parsed differently");
        }
    }

    [Fact]
    public async Task Client21_parses_identically_when_read_byte_by_byte()
    {
        var stream = ChunkedStream.ByteByByte(Recorded);
        var messages = await ReadAllAsync(stream);
        Assert.Equal(RecordedMessages, messages);
        Assert.True(stream.Reads > Recorded.Length);
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    [InlineData("\r")]
    public async Task Client21_parses_cr_lf_and_crlf_line_endings(string eol)
    {
        var text = $"event: a{eol}data: 1{eol}{eol}: ping{eol}{eol}data: 2{eol}data: 3{eol}{eol}";
        var messages = await ParseAsync(text);
        Assert.Equal([new SseMessage("a", "1", null, null), new SseMessage("message", "2\n3", null, null)], messages);
    }

    [Fact]
    public async Task Client21_accepts_mixed_line_endings_and_a_crlf_split_between_reads()
    {
        var bytes = Encoding.UTF8.GetBytes("data: x\r\n\ndata: y\r\rdata: z\n\r\n");
        var cr = Array.IndexOf(bytes, (byte)'\r');
        var messages = await ReadAllAsync(ChunkedStream.Split(bytes, cr + 1)); // "...\r" | "\n\n..."
        Assert.Equal(["x", "y", "z"], messages.Select(m => m.Data));
    }

    [Fact]
    public async Task Client21_joins_multi_line_data_with_line_feeds()
    {
        var messages = await ParseAsync("data: first\ndata:second\ndata:  third\ndata\n\n");
        var message = Assert.Single(messages);
        Assert.Equal("first\nsecond\n third\n", message.Data); // one leading space stripped; bare "data" adds an empty line
    }

    [Fact]
    public async Task Client21_ignores_a_leading_utf8_bom_even_when_split()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("data: a\n\n")).ToArray();
        Assert.Equal("a", Assert.Single(await ReadAllAsync(new MemoryStream(bytes))).Data);
        Assert.Equal("a", Assert.Single(await ReadAllAsync(ChunkedStream.ByteByByte(bytes))).Data);
    }

    [Fact]
    public async Task Client21_strips_only_one_bom_at_the_start()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("data: a\n\n")).ToArray();
        var messages = await ReadAllAsync(new MemoryStream(bytes));
        Assert.Empty(messages); // the second BOM makes the field name "\uFEFFdata", which is unknown
    }

    [Fact]
    public async Task Client21_ignores_comment_lines_and_blank_blocks()
    {
        var messages = await ParseAsync(":\n: ping\n\n\n\n:data: not data\ndata: real\n: between\n\n");
        Assert.Equal([new SseMessage("message", "real", null, null)], messages);
    }

    [Fact]
    public async Task Client21_defaults_the_event_name_to_message()
    {
        var messages = await ParseAsync("data: a\n\nevent:\ndata: b\n\nevent: named\ndata: c\n\n");
        Assert.Equal(["message", "message", "named"], messages.Select(m => m.Event));
    }

    [Fact]
    public async Task Client21_treats_a_line_without_colon_as_a_field_with_empty_value()
    {
        var messages = await ParseAsync("event: a\nnonsense\ndata\n\nevent: b\ndata: after\n\n");
        Assert.Equal([new SseMessage("a", "", null, null), new SseMessage("b", "after", null, null)], messages);
    }

    [Fact]
    public async Task Client21_does_not_dispatch_a_block_without_data_but_keeps_its_retry()
    {
        await using var reader = new SseEventReader(new MemoryStream("event: lonely\nretry: 3000\n\ndata: x\n\n"u8.ToArray()));
        var message = await reader.ReadAsync();
        Assert.Equal(new SseMessage("message", "x", null, null), message);
        Assert.Equal(3000, reader.ReconnectionTimeMs);
        Assert.Null(await reader.ReadAsync());
    }

    [Fact]
    public async Task Client21_reads_retry_as_milliseconds_and_ignores_non_numeric_retry()
    {
        var messages = await ParseAsync("retry: 5\ndata: a\n\nretry: 5s\ndata: b\n\nretry: -1\ndata: c\n\nretry: 99999999999\ndata: d\n\n");
        Assert.Equal([5, null, null, null], messages.Select(m => m.RetryMs));
    }

    [Fact]
    public async Task Client21_keeps_the_last_event_id_across_events()
    {
        var messages = await ParseAsync("id: 7\ndata: a\n\ndata: b\n\nid: bad\0id\ndata: c\n\nid\ndata: d\n\n");
        Assert.Equal(["7", "7", "7", ""], messages.Select(m => m.Id));
    }

    [Fact]
    public async Task Client21_dispatches_a_complete_event_missing_the_final_blank_line_at_eof()
    {
        var messages = await ParseAsync("data: a\n\nevent: server_close\ndata: {}\n");
        Assert.Equal([new SseMessage("message", "a", null, null), new SseMessage("server_close", "{}", null, null)], messages);
    }

    [Fact]
    public async Task Client21_discards_an_unterminated_last_line_at_eof()
    {
        var messages = await ParseAsync("data: a\n\nevent: cut\ndata: {\"trunc");
        Assert.Equal([new SseMessage("message", "a", null, null)], messages);
    }

    [Fact]
    public async Task Client21_replaces_invalid_utf8_instead_of_failing()
    {
        var bytes = "data: a"u8.ToArray().Concat(new byte[] { 0xFF }).Concat("b\n\n"u8.ToArray()).ToArray();
        var message = Assert.Single(await ReadAllAsync(new MemoryStream(bytes)));
        Assert.Equal("a\uFFFDb", message.Data);
    }

    [Fact]
    public async Task Client21_rejects_an_event_larger_than_the_limit()
    {
        var options = new SseParserOptions { MaxEventSize = 100 };
        var text = "data: ok\n\n" + string.Concat(Enumerable.Repeat("data: 0123456789\n", 10)) + "\n";
        await using var reader = new SseEventReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), options);
        Assert.Equal("ok", (await reader.ReadAsync())!.Data);
        var error = await Assert.ThrowsAsync<BackendProtocolException>(async () => await reader.ReadAsync());
        Assert.Contains("100 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxEventSize", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<BackendProtocolException>(async () => await reader.ReadAsync()); // stays failed
    }

    [Fact]
    public async Task Client21_rejects_an_endless_line_without_buffering_it_all()
    {
        var options = new SseParserOptions { MaxEventSize = 1000 };
        var endless = new ChunkedStream(Enumerable.Repeat(Encoding.ASCII.GetBytes(new string('x', 64)), int.MaxValue).Prepend("data: "u8.ToArray()));
        await using var reader = new SseEventReader(endless, options);
        await Assert.ThrowsAsync<BackendProtocolException>(async () => await reader.ReadAsync());
        Assert.True(endless.Reads < 1000, $"read {endless.Reads} chunks before failing");
    }

    [Fact]
    public async Task Client21_rejects_an_endless_comment_line()
    {
        var options = new SseParserOptions { MaxEventSize = 1000 };
        var endless = new ChunkedStream(Enumerable.Repeat(Encoding.ASCII.GetBytes(new string('x', 64)), int.MaxValue).Prepend(": "u8.ToArray()));
        await using var reader = new SseEventReader(endless, options);
        await Assert.ThrowsAsync<BackendProtocolException>(async () => await reader.ReadAsync());
    }

    [Fact]
    public void Client21_rejects_a_non_positive_limit()
    {
        var error = Assert.Throws<BackendClientException>(() => new SseEventReader(new MemoryStream(), new SseParserOptions { MaxEventSize = 0 }));
        Assert.Equal("MaxEventSize", error.Setting);
    }

    [Fact]
    public async Task Client21_read_is_cancellable_while_waiting_for_data()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("data: first\n\n"u8.ToArray());
        await using var reader = new SseEventReader(pipe.Reader);
        Assert.Equal("first", (await reader.ReadAsync())!.Data);

        using var cts = new CancellationTokenSource();
        var pending = reader.ReadAsync(cts.Token).AsTask();
        Assert.False(pending.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        await pipe.Writer.CompleteAsync();
    }

    [Fact]
    public async Task Client21_disposing_the_reader_completes_the_pipe_unless_leave_open()
    {
        var pipe = new Pipe();
        await using (new SseEventReader(pipe.Reader)) { }
        var write = await pipe.Writer.WriteAsync("x"u8.ToArray());
        Assert.True(write.IsCompleted); // the reader side was completed

        var stream = new MemoryStream("data: a\n\n"u8.ToArray());
        await using (var reader = new SseEventReader(stream, new SseParserOptions { LeaveOpen = true }))
        {
            await reader.ReadAsync();
        }

        Assert.True(stream.CanRead);
        await using (new SseEventReader(stream)) { }
        Assert.False(stream.CanRead);
    }

    [Fact]
    public async Task Client21_reads_events_from_a_loopback_http_stream_flushed_in_awkward_pieces()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackHttpServer.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            // Each flush ends inside a line or between CR and LF.
            foreach (var piece in new[] { "event: session_sta", "rted\r", "\ndata: " + SessionData[..20], SessionData[20..] + "\r\n\r", "\n: ping\r\n\r\n", "event: x\r\ndata: y\r\n\r\n" })
            {
                await context.Response.WriteAsync(piece, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }

            await release.Task.WaitAsync(context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default); // keep the stream open
        });

        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(server.BaseAddress, "events/session"), HttpCompletionOption.ResponseHeadersRead);
        await using var reader = new SseEventReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal(new SseMessage("session_started", SessionData, null, null), await reader.ReadAsync());
        Assert.Equal(new SseMessage("x", "y", null, null), await reader.ReadAsync());

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader.ReadAsync(cts.Token));
        release.SetResult();
    }
}
