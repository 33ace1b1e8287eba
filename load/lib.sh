# Shared by the load scripts: sourced, not run. Needs ROOT (the repository root).

# Stops the script (exit 2) unless every named variable is a whole number from 1 to 999 (rounds, slices).
require_counts() {
  local knob
  for knob in "$@"; do
    [[ "${!knob}" =~ ^[1-9][0-9]{0,2}$ ]] || { echo "$knob must be a whole number from 1 to 999, not '${!knob}'" >&2; exit 2; }
  done
}

# Stops the script (exit 2) unless every named variable is a whole number of seconds as wrk takes it, like 2s.
require_seconds() {
  local knob
  for knob in "$@"; do
    [[ "${!knob}" =~ ^[1-9][0-9]{0,3}s$ ]] || { echo "$knob must be a whole number of seconds like 2s, not '${!knob}'" >&2; exit 2; }
  done
}

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

# The load issuer's keys (OUT/keys, with jwks.json) and one token for it (OUT/single.txt). Needs TOOLS.
mint_single_token() {
  local out=$1
  rm -rf "$out/keys"; "${TOOLS[@]}" keygen --out "$out/keys" > /dev/null
  "${TOOLS[@]}" mint --key "$out/keys" --issuer https://id.authio.load/ --audience https://api.authio.load --count 1 > "$out/single.txt"
}

# 1 000 valid tokens of OUT/keys (mint_single_token first), one per line in OUT/rotating.txt: run.sh's valid-rotating.
mint_rotating_tokens() {
  "${TOOLS[@]}" mint --key "$1/keys" --issuer https://id.authio.load/ --audience https://api.authio.load --count 1000 > "$1/rotating.txt"
}

# Starts an edge build in front of the upstream on 127.0.0.1:UP_PORT, trusting OUT/keys (mint_single_token), with one
# catch-all route, ENV ("VAR=value ...", may be empty) and any extra edge arguments; logs to OUT/edge-PORT.log, adds
# the process to PIDS, sets LAST to its pid and returns once its /readyz answers.
# Usage: start_load_edge DLL PORT ADMIN_PORT OUT UP_PORT "ENV" [--Key=value ...]
start_load_edge() {
  local dll=$1 port=$2 admin=$3 out=$4 upstream=$5 environment=$6
  shift 6
  # In an empty working directory: ASP.NET watches its content root for appsettings changes, and a tree being written
  # to (wrk output, logs, perf data) would wake the edge for nothing.
  mkdir -p "$out/cwd"
  # shellcheck disable=SC2086 # ENV is a list of assignments
  (cd "$out/cwd" && exec env ${environment:-LOAD_EDGE=1} dotnet "$dll" --urls "http://127.0.0.1:$port" "--Edge:AdminUrls=http://127.0.0.1:$admin" \
    "--Edge:Issuers:0:Issuer=https://id.authio.load/" "--Edge:Issuers:0:Audiences:0=https://api.authio.load" \
    "--Edge:Issuers:0:JwksUri=$out/keys/jwks.json" "--ReverseProxy:Routes:all:ClusterId=up" "--ReverseProxy:Routes:all:Match:Path={**catch-all}" \
    "--ReverseProxy:Clusters:up:Destinations:d1:Address=http://127.0.0.1:$upstream/" "$@") > "$out/edge-$port.log" 2>&1 &
  LAST=$!; PIDS+=("$LAST")
  for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$admin/readyz" && return 0; sleep 0.2; done
  echo "edge on :$port never became ready: $out/edge-$port.log" >&2; exit 1
}
