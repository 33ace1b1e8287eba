// The control plane host. Issue 3 fills it: identity, sessions, signing keys, JWKS, audit, admin API.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/healthz", () => Results.Text("ok"));
app.Run();
