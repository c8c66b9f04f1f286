Console.WriteLine("BackendAI.Local: not yet implemented");
