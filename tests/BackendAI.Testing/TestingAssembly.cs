namespace BackendAI.Testing;

/// <summary>Marker for the shared test fixtures assembly.</summary>
public static class TestingAssembly
{
}
