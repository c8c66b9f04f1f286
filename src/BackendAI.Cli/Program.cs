Console.WriteLine("backend.ai: not yet implemented");
return 0;
