using BackendAI.Local.Hosting;
using BackendAI.Local.Tests.VFolders;

namespace BackendAI.Local.Tests.GraphQL;

/// <summary>Fixed sessions, keypairs and an agent (pure data for the GraphQL area's tests).</summary>
public sealed class FakeSessions : ISessionQuerySource
{
    public static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-03-15T10:00:00Z");

    public List<SessionView> Items { get; } = [];

    public IReadOnlyList<SessionView> Sessions() => Items.ToList();

    public SessionView? Find(Guid id) => Items.FirstOrDefault(s => s.Id == id);

    public static SessionView Session(string name, LocalIdentity owner, string status, int minutes, string type = "INTERACTIVE",
        string image = "cr.backend.ai/stable/python:3.9-ubuntu20.04", string result = "UNDEFINED") => new()
    {
        Id = Guid.NewGuid(),
        Name = name,
        AccessKey = owner.AccessKey,
        UserId = owner.UserId,
        UserEmail = owner.Email,
        DomainName = owner.Domain,
        GroupName = owner.GroupName,
        GroupId = owner.GroupId,
        Image = image,
        Type = type,
        Status = status,
        StatusChanged = T0.AddMinutes(minutes),
        CreatedAt = T0.AddMinutes(minutes - 1),
        TerminatedAt = status is "TERMINATED" or "CANCELLED" ? T0.AddMinutes(minutes) : null,
        Result = result,
        OccupiedSlots = new Dictionary<string, string> { ["cpu"] = "1", ["mem"] = "1073741824" },
        Agent = status == "PENDING" ? null : "local",
        NumQueries = 3,
    };
}

public sealed class FakeKeypairs : IKeypairStore
{
    private static LocalKeypair From(LocalIdentity i, string secret) =>
        new(i.AccessKey, secret, i.Email, i.UserId, i.Role, true, 30000, "default", i.Domain, i.GroupName, i.GroupId);

    public IReadOnlyList<LocalKeypair> All { get; } =
    [
        From(VFolderTestHost.Admin, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        From(VFolderTestHost.User, "C8qnIo29EZvXkPK_MXcuAakYTy4NYrxwmCEyNPlf"),
        From(VFolderTestHost.User2, "user2-secret-for-tests-only"),
    ];

    public LocalKeypair? Find(string accessKey) => All.FirstOrDefault(k => k.AccessKey == accessKey);
}

public sealed class FakeAgent : IAgentInfo
{
    public string Id => "local";
    public IReadOnlyDictionary<string, string> AvailableSlots { get; } = new Dictionary<string, string> { ["cpu"] = "8", ["mem"] = "17179869184" };
    public IReadOnlyDictionary<string, string> OccupiedSlots() => new Dictionary<string, string> { ["cpu"] = "1", ["mem"] = "1073741824" };
    public DateTimeOffset FirstContact => FakeSessions.T0;
}
