using System.Globalization;
using BackendAI.Local.Hosting;
using Microsoft.Data.Sqlite;

namespace BackendAI.Local.VFolders;

/// <summary>
/// Folder metadata in SQLite (<c>vfolders.db</c> in the data directory) with an in-memory copy for reads,
/// and the folder directories under <see cref="LocalBackendPaths.VFoldersDirectory"/>. Thread-safe.
/// </summary>
internal sealed class VFolderStore
{
    private readonly object _gate = new();
    private readonly Dictionary<Guid, VFolderRecord> _folders = new();
    private readonly string _connectionString;

    /// <summary>Opens (creating when needed) the store under <paramref name="paths"/>.</summary>
    public VFolderStore(LocalBackendPaths paths)
    {
        Paths = paths;
        Directory.CreateDirectory(paths.DataDirectory);
        Directory.CreateDirectory(paths.VFoldersDirectory);
        Directory.CreateDirectory(paths.UploadsDirectory);
        DatabasePath = Path.Combine(paths.DataDirectory, "vfolders.db");
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
        using var db = Open();
        Execute(db, """
            CREATE TABLE IF NOT EXISTS vfolders (
              id TEXT PRIMARY KEY, name TEXT NOT NULL, host TEXT NOT NULL, usage_mode TEXT NOT NULL,
              permission TEXT NOT NULL, ownership_type TEXT NOT NULL, user_id TEXT NULL, user_email TEXT NULL,
              group_id TEXT NULL, group_name TEXT NULL, domain_name TEXT NOT NULL, creator TEXT NOT NULL,
              cloneable INTEGER NOT NULL, max_size INTEGER NULL, unmanaged_path TEXT NULL, created_at TEXT NOT NULL)
            """);
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT id, name, host, usage_mode, permission, ownership_type, user_id, user_email, group_id, group_name, domain_name, creator, cloneable, max_size, unmanaged_path, created_at FROM vfolders";
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var f = new VFolderRecord
            {
                Id = Guid.Parse(r.GetString(0)),
                Name = r.GetString(1),
                Host = r.GetString(2),
                UsageMode = r.GetString(3),
                Permission = r.GetString(4),
                OwnershipType = r.GetString(5),
                UserId = r.IsDBNull(6) ? null : Guid.Parse(r.GetString(6)),
                UserEmail = r.IsDBNull(7) ? null : r.GetString(7),
                GroupId = r.IsDBNull(8) ? null : Guid.Parse(r.GetString(8)),
                GroupName = r.IsDBNull(9) ? null : r.GetString(9),
                DomainName = r.GetString(10),
                Creator = r.GetString(11),
                Cloneable = r.GetInt64(12) != 0,
                MaxSizeMiB = r.IsDBNull(13) ? null : r.GetInt64(13),
                UnmanagedPath = r.IsDBNull(14) ? null : r.GetString(14),
                CreatedAt = DateTimeOffset.Parse(r.GetString(15), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            };
            _folders[f.Id] = f;
        }
    }

    /// <summary>The data paths.</summary>
    public LocalBackendPaths Paths { get; }

    /// <summary>The SQLite file.</summary>
    public string DatabasePath { get; }

    /// <summary>Every folder.</summary>
    public IReadOnlyList<VFolderRecord> All()
    {
        lock (_gate) return _folders.Values.OrderBy(f => f.CreatedAt).ToList();
    }

    /// <summary>A folder by id, or null.</summary>
    public VFolderRecord? Find(Guid id)
    {
        lock (_gate) return _folders.GetValueOrDefault(id);
    }

    /// <summary>The folders <paramref name="caller"/> can access by name: its own and its group's.</summary>
    public IReadOnlyList<VFolderAccess> Accessible(LocalIdentity caller)
    {
        lock (_gate)
        {
            var list = new List<VFolderAccess>();
            foreach (var f in _folders.Values.OrderBy(f => f.CreatedAt))
            {
                if (f.IsUserFolder && f.UserId == caller.UserId)
                    list.Add(new VFolderAccess(f, true, VFolderConstants.ReadWriteDelete));
                else if (!f.IsUserFolder && f.GroupId == caller.GroupId)
                    list.Add(new VFolderAccess(f, false, caller.IsAdmin ? VFolderConstants.ReadWriteDelete : f.Permission));
            }
            return list;
        }
    }

    /// <summary>The folders owned by user <paramref name="userId"/> (user folders only).</summary>
    public IReadOnlyList<VFolderRecord> OwnedBy(Guid userId)
    {
        lock (_gate) return _folders.Values.Where(f => f.IsUserFolder && f.UserId == userId).OrderBy(f => f.CreatedAt).ToList();
    }

    /// <summary>The accessible folder named <paramref name="name"/>, or null.</summary>
    public VFolderAccess? FindAccessible(LocalIdentity caller, string name) =>
        Accessible(caller).Where(a => a.Folder.Name == name).OrderByDescending(a => a.IsOwner).FirstOrDefault();

    /// <summary>The directory holding the folder's files.</summary>
    public string RootOf(VFolderRecord folder) =>
        folder.UnmanagedPath ?? Path.Combine(Paths.VFoldersDirectory, folder.HexId);

    /// <summary>
    /// Adds a folder and creates its directory, atomically with respect to the duplicate and count checks:
    /// <paramref name="check"/> runs under the store's lock with the current folders.
    /// </summary>
    public void Add(VFolderRecord folder, Action<IReadOnlyCollection<VFolderRecord>> check)
    {
        lock (_gate)
        {
            check(_folders.Values);
            var root = RootOf(folder);
            try
            {
                Directory.CreateDirectory(root);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ApiProblemException(BackendAI.Client.Errors.ProblemTypes.VFolderCreationFailed, e.Message);
            }
            using var db = Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = """
                INSERT INTO vfolders (id, name, host, usage_mode, permission, ownership_type, user_id, user_email, group_id,
                  group_name, domain_name, creator, cloneable, max_size, unmanaged_path, created_at)
                VALUES ($id, $name, $host, $usage, $perm, $own, $uid, $uemail, $gid, $gname, $domain, $creator, $clone, $max, $unmanaged, $created)
                """;
            cmd.Parameters.AddWithValue("$id", folder.Id.ToString());
            cmd.Parameters.AddWithValue("$name", folder.Name);
            cmd.Parameters.AddWithValue("$host", folder.Host);
            cmd.Parameters.AddWithValue("$usage", folder.UsageMode);
            cmd.Parameters.AddWithValue("$perm", folder.Permission);
            cmd.Parameters.AddWithValue("$own", folder.OwnershipType);
            cmd.Parameters.AddWithValue("$uid", (object?)folder.UserId?.ToString() ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$uemail", (object?)folder.UserEmail ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$gid", (object?)folder.GroupId?.ToString() ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$gname", (object?)folder.GroupName ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$domain", folder.DomainName);
            cmd.Parameters.AddWithValue("$creator", folder.Creator);
            cmd.Parameters.AddWithValue("$clone", folder.Cloneable ? 1 : 0);
            cmd.Parameters.AddWithValue("$max", (object?)folder.MaxSizeMiB ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$unmanaged", (object?)folder.UnmanagedPath ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$created", folder.CreatedAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            cmd.ExecuteNonQuery();
            _folders[folder.Id] = folder;
        }
    }

    /// <summary>Replaces a folder's metadata (rename, options), after <paramref name="check"/> passes under the lock.</summary>
    public void Update(VFolderRecord folder, Action<IReadOnlyCollection<VFolderRecord>>? check = null)
    {
        lock (_gate)
        {
            check?.Invoke(_folders.Values);
            using var db = Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "UPDATE vfolders SET name = $name, permission = $perm, cloneable = $clone WHERE id = $id";
            cmd.Parameters.AddWithValue("$id", folder.Id.ToString());
            cmd.Parameters.AddWithValue("$name", folder.Name);
            cmd.Parameters.AddWithValue("$perm", folder.Permission);
            cmd.Parameters.AddWithValue("$clone", folder.Cloneable ? 1 : 0);
            cmd.ExecuteNonQuery();
            _folders[folder.Id] = folder;
        }
    }

    /// <summary>Removes a folder's metadata and (for managed folders) its directory.</summary>
    public void Remove(VFolderRecord folder)
    {
        lock (_gate)
        {
            using (var db = Open())
            {
                using var cmd = db.CreateCommand();
                cmd.CommandText = "DELETE FROM vfolders WHERE id = $id";
                cmd.Parameters.AddWithValue("$id", folder.Id.ToString());
                cmd.ExecuteNonQuery();
            }
            _folders.Remove(folder.Id);
        }
        if (folder.UnmanagedPath is null)
        {
            var root = RootOf(folder);
            try
            {
                if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ApiProblemException(BackendAI.Client.Errors.ProblemTypes.VFolderOperationFailed, e.Message);
            }
        }
    }

    private SqliteConnection Open()
    {
        var db = new SqliteConnection(_connectionString);
        db.Open();
        return db;
    }

    private static void Execute(SqliteConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
