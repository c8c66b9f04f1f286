// TEMPORARY: compiled only while src/BackendAI.Actors/BackendAIRuntime.cs is absent (see Quickstart.csproj),
// so the solution builds before the runtime is merged. Remove this file once it is.
Console.Error.WriteLine("The quickstart needs the BackendAI.Actors runtime, which is not in this build yet.");
return 1;
