using System.Text.Json;
using System.Text.Json.Serialization;

namespace BackendAI.Client.Json;

/// <summary>The hello (<c>GET /</c>) response.</summary>
/// <param name="Version">The server's API version string.</param>
/// <param name="Manager">The manager version.</param>
public sealed record HelloResponse(
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("manager")] string? Manager);

/// <summary>A storage-proxy ticket from <c>request-upload</c> / <c>request-download</c>.</summary>
/// <param name="Token">The opaque token.</param>
/// <param name="Url">The storage-proxy URL.</param>
public sealed record StorageTicket(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("url")] string Url);

/// <summary>
/// Source-generated System.Text.Json metadata for the wire types. Unknown fields are tolerated; property names
/// are given explicitly because the protocol mixes camelCase and snake_case.
/// </summary>
[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(HelloResponse))]
[JsonSerializable(typeof(StorageTicket))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class BackendAIJsonContext : JsonSerializerContext;
