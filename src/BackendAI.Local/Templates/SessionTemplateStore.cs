using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace BackendAI.Local.Templates;

/// <summary>One stored session (task) template.</summary>
internal sealed record SessionTemplateRecord
{
    public required Guid Id { get; init; }
    public required string Name { get; init; }
    public required string DomainName { get; init; }
    public Guid? GroupId { get; init; }
    public required Guid UserUuid { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The validated template (<c>api_version</c>, <c>kind</c>, <c>metadata</c>, <c>spec</c>) as JSON text.</summary>
    public required string TemplateJson { get; init; }

    /// <summary>A fresh parsed copy of the template.</summary>
    public JsonObject Template() => JsonNode.Parse(TemplateJson)!.AsObject();
}

/// <summary>
/// Session templates in SQLite (table <c>session_templates</c> of the local server's database, the file the vfolder
/// store uses) with an in-memory copy for reads. Deletion is soft (<c>is_active = 0</c>), as upstream. Thread-safe.
/// </summary>
internal sealed class SessionTemplateStore
{
    private readonly object _gate = new();
    private readonly Dictionary<Guid, SessionTemplateRecord> _templates = [];
    private readonly string _connectionString;

    /// <summary>Opens (creating the table when needed) the store in <paramref name="databasePath"/>.</summary>
    public SessionTemplateStore(string databasePath)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
        using var db = Open();
        using (var create = db.CreateCommand())
        {
            create.CommandText = """
                CREATE TABLE IF NOT EXISTS session_templates (
                  id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_name TEXT NOT NULL, group_id TEXT NULL,
                  user_uuid TEXT NOT NULL, type TEXT NOT NULL, template TEXT NOT NULL, is_active INTEGER NOT NULL,
                  created_at TEXT NOT NULL)
                """;
            create.ExecuteNonQuery();
        }
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT id, name, domain_name, group_id, user_uuid, template, created_at FROM session_templates WHERE is_active = 1 AND type = 'task'";
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var t = new SessionTemplateRecord
            {
                Id = Guid.Parse(r.GetString(0)),
                Name = r.GetString(1),
                DomainName = r.GetString(2),
                GroupId = r.IsDBNull(3) ? null : Guid.Parse(r.GetString(3)),
                UserUuid = Guid.Parse(r.GetString(4)),
                TemplateJson = r.GetString(5),
                CreatedAt = DateTimeOffset.Parse(r.GetString(6), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            };
            _templates[t.Id] = t;
        }
    }

    /// <summary>Every active template, oldest first.</summary>
    public IReadOnlyList<SessionTemplateRecord> All()
    {
        lock (_gate) return [.. _templates.Values.OrderBy(t => t.CreatedAt).ThenBy(t => t.Id)];
    }

    /// <summary>An active template by id, or null.</summary>
    public SessionTemplateRecord? Find(Guid id)
    {
        lock (_gate) return _templates.GetValueOrDefault(id);
    }

    /// <summary>Adds a template.</summary>
    public void Add(SessionTemplateRecord t)
    {
        lock (_gate)
        {
            using var db = Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = """
                INSERT INTO session_templates (id, name, domain_name, group_id, user_uuid, type, template, is_active, created_at)
                VALUES ($id, $name, $domain, $gid, $uid, 'task', $template, 1, $created)
                """;
            Bind(cmd, t);
            cmd.Parameters.AddWithValue("$created", t.CreatedAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            cmd.ExecuteNonQuery();
            _templates[t.Id] = t;
        }
    }

    /// <summary>Replaces an active template's name, owner, group and body; false when it is gone.</summary>
    public bool Update(SessionTemplateRecord t)
    {
        lock (_gate)
        {
            if (!_templates.ContainsKey(t.Id)) return false;
            using var db = Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = """
                UPDATE session_templates SET name = $name, domain_name = $domain, group_id = $gid, user_uuid = $uid, template = $template
                WHERE id = $id AND is_active = 1
                """;
            Bind(cmd, t);
            cmd.ExecuteNonQuery();
            _templates[t.Id] = t;
            return true;
        }
    }

    /// <summary>Deactivates a template; false when it is already gone.</summary>
    public bool Deactivate(Guid id)
    {
        lock (_gate)
        {
            if (!_templates.ContainsKey(id)) return false;
            using var db = Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "UPDATE session_templates SET is_active = 0 WHERE id = $id";
            cmd.Parameters.AddWithValue("$id", id.ToString());
            cmd.ExecuteNonQuery();
            _templates.Remove(id);
            return true;
        }
    }

    private static void Bind(SqliteCommand cmd, SessionTemplateRecord t)
    {
        cmd.Parameters.AddWithValue("$id", t.Id.ToString());
        cmd.Parameters.AddWithValue("$name", t.Name);
        cmd.Parameters.AddWithValue("$domain", t.DomainName);
        cmd.Parameters.AddWithValue("$gid", (object?)t.GroupId?.ToString() ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$uid", t.UserUuid.ToString());
        cmd.Parameters.AddWithValue("$template", t.TemplateJson);
    }

    private SqliteConnection Open()
    {
        var db = new SqliteConnection(_connectionString);
        db.Open();
        return db;
    }
}
