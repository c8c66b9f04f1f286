global using BackendAI.Client.Admin;
global using BackendAI.Client.Config;
global using BackendAI.Client.Events;
global using BackendAI.Client.Models;
global using BackendAI.Client.Sessions;
global using BackendAI.Client.Sse;
global using BackendAI.Client.VFolders;
global using BackendAI.Client.WebSockets;
