using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using BackendAI.Cli.Parsing;
using BackendAI.Client;
using Spectre.Console;

namespace BackendAI.Cli.Commands;

/// <summary>
/// The session list shared by <c>ps</c> and <c>admin sessions</c>: the <c>compute_session_list</c> GraphQL
/// query with the status groups of sessions.md §13.5, paged 100 at a time from <c>--offset</c> until
/// <c>--limit</c> rows (default: every match) are shown.
/// </summary>
internal sealed class SessionListing
{
    private const int PageSize = 100;

    private static readonly string[] DefaultFields =
        ["name", "session_id", "group_name", "image", "type", "status", "status_info", "status_changed", "result"];

    private static readonly string[] DetailFields = ["tag", "created_at", "occupied_slots"];

    private readonly Option<string?> _status = new("--status", "-s") { Description = "Show sessions in this status only (or ALL)." };
    private readonly Option<bool> _running = new("--running") { Description = "Show only running sessions (PREPARING, PULLING, RUNNING)." };
    private readonly Option<bool> _dead = new("--dead") { Description = "Show only dead sessions (CANCELLED, TERMINATED)." };
    private readonly Option<bool> _nameOnly = new("--name-only") { Description = "Show the session names only." };
    private readonly Option<bool> _detail = new("--detail") { Description = "Show more details (tag, creation time, occupied slots)." };
    private readonly Option<string?> _format = new("--format", "-f") { Description = "Comma-separated fields to show, e.g. name,status,image." };
    private readonly Option<string?> _filter = new("--filter") { Description = "A filter expression, e.g. 'name ilike \"%train%\"'." };
    private readonly Option<string?> _order = new("--order") { Description = "An order expression, e.g. '-created_at'." };
    private readonly Option<int> _offset = new("--offset") { Description = "Skip this many sessions.", DefaultValueFactory = _ => 0 };
    private readonly Option<int?> _limit = new("--limit") { Description = "Show at most this many sessions (default: all, fetched page by page)." };
    private readonly Option<string?> _accessKey = new("--access-key") { Description = "Only the sessions of this access key (admins)." };
    private readonly bool _admin;

    private SessionListing(bool admin) => _admin = admin;

    public static Command CreateCommand(CliContext context, string name, string description, bool admin, params string[] aliases)
    {
        var listing = new SessionListing(admin);
        var command = new Command(name, description)
        {
            listing._status, listing._running, listing._dead, listing._nameOnly, listing._detail, listing._format,
            listing._filter, listing._order, listing._offset, listing._limit,
        };
        if (admin)
            command.Options.Add(listing._accessKey);
        foreach (var alias in aliases)
            command.Aliases.Add(alias);
        command.SetCliAction(context, (parseResult, ct) => listing.RunAsync(context, parseResult, ct));
        return command;
    }

    private async Task<int> RunAsync(CliContext context, ParseResult parseResult, CancellationToken ct)
    {
        var status = StatusGroups.Resolve(parseResult.GetValue(_status), parseResult.GetValue(_running), parseResult.GetValue(_dead));
        var offset = parseResult.GetValue(_offset);
        var limit = parseResult.GetValue(_limit);
        if (offset < 0)
            throw new CliUsageException("--offset must not be negative.");
        if (limit is < 1)
            throw new CliUsageException("--limit must be a positive integer.");
        var fields = Fields(parseResult);

        var client = context.Client;
        var accessKey = _admin ? parseResult.GetValue(_accessKey) : client.Options.AccessKey;
        if (!_admin && string.IsNullOrEmpty(accessKey))
            accessKey = null;
        var document =
            "query($limit:Int!, $offset:Int!, $status:String, $access_key:String, $filter:String, $order:String) {\n" +
            "  compute_session_list(limit:$limit, offset:$offset, status:$status, access_key:$access_key, filter:$filter, order:$order) {\n" +
            $"    items {{ {string.Join(' ', fields)} }}\n" +
            "    total_count\n" +
            "  }\n" +
            "}";
        var items = new List<JsonElement>();
        var total = 0;
        var pageOffset = offset;
        while (true)
        {
            var want = limit is { } l ? Math.Min(PageSize, l - items.Count) : PageSize;
            var variables = new Dictionary<string, object?>
            {
                ["limit"] = want,
                ["offset"] = pageOffset,
                ["status"] = status,
                ["access_key"] = accessKey,
                ["filter"] = parseResult.GetValue(_filter),
                ["order"] = parseResult.GetValue(_order),
            };
            var data = await client.Admin.QueryAsync(document, variables, ct).ConfigureAwait(false);
            var list = data.GetProperty("compute_session_list");
            total = list.TryGetProperty("total_count", out var tc) && tc.ValueKind == JsonValueKind.Number ? tc.GetInt32() : 0;
            var page = list.GetProperty("items").EnumerateArray().Select(e => e.Clone()).ToList();
            items.AddRange(page);
            pageOffset += page.Count;
            if (page.Count < want || pageOffset >= total || (limit is { } max && items.Count >= max))
                break;
        }

        if (parseResult.IsJson())
        {
            var json = new JsonObject
            {
                ["total_count"] = total,
                ["offset"] = offset,
                ["items"] = new JsonArray(items.Select(i => JsonNode.Parse(i.GetRawText())).ToArray()),
            };
            context.WriteJson(json);
            return ExitCodes.Success;
        }
        if (parseResult.GetValue(_nameOnly))
        {
            foreach (var item in items)
                context.Out.WriteLine(Text(item, "name"));
            context.Out.Flush();
            return ExitCodes.Success;
        }
        if (items.Count == 0)
        {
            context.Info(total == 0 ? "There are no matching sessions." : $"No sessions at offset {offset} (total {total}).");
            return ExitCodes.Success;
        }
        var table = new Table().Border(TableBorder.Simple);
        foreach (var f in fields)
            table.AddColumn(new TableColumn(Header(f)).NoWrap());
        foreach (var item in items)
            table.AddRow(fields.Select(f => Markup.Escape(Text(item, f))).ToArray());
        context.Console.Write(table);
        context.Info($"Showing {items.Count} of {total} session(s) from offset {offset}.");
        return ExitCodes.Success;
    }

    private List<string> Fields(ParseResult parseResult)
    {
        if (parseResult.GetValue(_format) is { } format)
        {
            var requested = format.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            if (requested.Count == 0 || requested.Any(f => !f.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')))
                throw new CliUsageException($"Invalid --format \"{format}\": expected comma-separated field names such as name,status.");
            return requested;
        }
        if (parseResult.GetValue(_nameOnly))
            return _admin ? ["name", "access_key"] : ["name"];
        var fields = new List<string>(DefaultFields);
        if (_admin)
            fields.Insert(1, "access_key");
        if (parseResult.GetValue(_detail))
            fields.AddRange(DetailFields);
        return fields;
    }

    private static string Header(string field) => field switch
    {
        "name" => "Name",
        "session_id" => "Session ID",
        "access_key" => "Owner",
        "group_name" => "Project",
        "status_info" => "Status Info",
        "status_changed" => "Last Updated",
        "created_at" => "Created At",
        "occupied_slots" => "Occupied Resources",
        _ => string.Join(' ', field.Split('_').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..])),
    };

    private static string Text(JsonElement item, string field)
    {
        if (!item.TryGetProperty(field, out var v))
            return "";
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString() ?? "",
            JsonValueKind.Null or JsonValueKind.Undefined => "",
            _ => v.GetRawText(),
        };
    }
}
