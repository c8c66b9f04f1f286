using System.Globalization;

namespace BackendAI.Local.VFolders;

/// <summary>The metadata of one virtual folder (one row of the vfolder table).</summary>
internal sealed record VFolderRecord
{
    /// <summary>Folder id (rendered as 32 hex digits in REST responses).</summary>
    public required Guid Id { get; init; }
    /// <summary>Folder name (a slug, unique per owner and host).</summary>
    public required string Name { get; init; }
    /// <summary>Storage host, e.g. <c>local:volume1</c>.</summary>
    public required string Host { get; init; }
    /// <summary><c>general</c>, <c>model</c> or <c>data</c>.</summary>
    public required string UsageMode { get; init; }
    /// <summary>Stored permission: <c>ro</c>, <c>rw</c> or <c>wd</c>.</summary>
    public required string Permission { get; init; }
    /// <summary><c>user</c> or <c>group</c>.</summary>
    public required string OwnershipType { get; init; }
    /// <summary>Owner user id for user folders.</summary>
    public Guid? UserId { get; init; }
    /// <summary>Owner email for user folders.</summary>
    public string? UserEmail { get; init; }
    /// <summary>Owner group id for group folders.</summary>
    public Guid? GroupId { get; init; }
    /// <summary>Owner group name for group folders.</summary>
    public string? GroupName { get; init; }
    /// <summary>Domain of the creator.</summary>
    public required string DomainName { get; init; }
    /// <summary>Creator's email.</summary>
    public required string Creator { get; init; }
    /// <summary>Whether the folder may be cloned.</summary>
    public bool Cloneable { get; init; }
    /// <summary>Quota in MiB, or null.</summary>
    public long? MaxSizeMiB { get; init; }
    /// <summary>An existing host directory used instead of a managed one (admins only).</summary>
    public string? UnmanagedPath { get; init; }
    /// <summary>Creation time.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The id as 32 lower-case hex digits.</summary>
    public string HexId => Id.ToString("N");

    /// <summary>True for user-owned folders.</summary>
    public bool IsUserFolder => OwnershipType == VFolderConstants.UserOwnership;
}

/// <summary>A folder as one caller sees it.</summary>
/// <param name="Folder">The folder.</param>
/// <param name="IsOwner">Whether the caller owns it.</param>
/// <param name="Permission">The caller's effective permission.</param>
internal sealed record VFolderAccess(VFolderRecord Folder, bool IsOwner, string Permission)
{
    /// <summary>Whether the effective permission allows writing.</summary>
    public bool CanWrite => Permission is VFolderConstants.ReadWrite or VFolderConstants.ReadWriteDelete;

    /// <summary>Whether the effective permission allows deleting the folder.</summary>
    public bool CanDelete => IsOwner || Permission == VFolderConstants.ReadWriteDelete;
}

/// <summary>Fixed names and formats of the vfolder area.</summary>
internal static class VFolderConstants
{
    public const string DefaultHost = "local:volume1";
    public const string UserOwnership = "user";
    public const string GroupOwnership = "group";
    public const string ReadOnly = "ro";
    public const string ReadWrite = "rw";
    public const string ReadWriteDelete = "wd";

    public static readonly string[] Permissions = [ReadOnly, ReadWrite, ReadWriteDelete];
    public static readonly string[] UsageModes = ["general", "model", "data"];

    /// <summary>Python <c>str(datetime)</c> of an aware UTC datetime: <c>2022-03-15 10:20:30.123456+00:00</c>.</summary>
    public static string PythonDate(DateTimeOffset t) =>
        t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00:00";

    /// <summary>ISO 8601 with offset: <c>2022-03-15T10:20:30.123456+00:00</c>.</summary>
    public static string IsoDate(DateTimeOffset t) =>
        t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00:00";
}
