# Shared by the load scripts: sourced, not run. Needs ROOT (the repository root).

# Stops the script when any of the given loopback ports is taken: a stale process would answer in our stead.
require_free_ports() {
  local port
  for port in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is already in use" >&2; exit 1; fi
  done
}

# Builds the edge and the load tools in Release and sets TOOLS (the load tools' command line).
build_edge_and_tools() {
  echo "== build (Release)"
  dotnet build "$ROOT/src/EdgeProxy/Authio.EdgeProxy.csproj" -c Release -nologo -v q -clp:ErrorsOnly
  dotnet build "$ROOT/load/Authio.Load.Tools/Authio.Load.Tools.csproj" -c Release -nologo -v q -clp:ErrorsOnly
  TOOLS=(dotnet "$ROOT/load/Authio.Load.Tools/bin/Release/net10.0/Authio.Load.Tools.dll")
}
