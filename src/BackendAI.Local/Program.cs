using BackendAI.Local;

LocalBackendOptions options;
try
{
    options = LocalBackendOptions.FromArgs(args);
}
catch (Exception e) when (e is ArgumentException or FormatException or IOException or Akka.Configuration.ConfigurationException)
{
    Console.Error.WriteLine($"backendai-local: {e.Message}");
    return 2;
}

await using var backend = await LocalBackend.StartAsync(options);
Console.WriteLine($"BackendAI.Local {options.ManagerVersion} listening on {backend.Endpoint} (data: {backend.Paths.DataDirectory})");
Console.WriteLine($"  superadmin: {backend.AdminKeypair.AccessKey}   user: {backend.UserKeypair.AccessKey}");
await backend.WaitForShutdownAsync();
return 0;
