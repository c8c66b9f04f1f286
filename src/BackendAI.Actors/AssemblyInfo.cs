namespace BackendAI.Actors;

/// <summary>Marker for the BackendAI.Actors assembly.</summary>
public static class ActorsAssembly
{
    /// <summary>The name used for the ActivitySource and Meter of this assembly.</summary>
    public const string Name = "BackendAI.Actors";
}
