global using BackendAI.Client.Events;
global using BackendAI.Client.Models;
global using BackendAI.Client.Transfers;
