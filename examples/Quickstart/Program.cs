Console.WriteLine("Quickstart: not yet implemented");
