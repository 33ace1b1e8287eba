-- wrk script: cycles through the tokens in $TOKENS_FILE (one per line), one Authorization header per request,
-- and prints one machine-readable RESULT line when the run is done.
-- Requests are pre-formatted once per thread, so the client spends no time building them during the run.
local path = os.getenv("TOKENS_FILE")
local tokens = {}
for line in io.lines(path) do
  if #line > 0 then tokens[#tokens + 1] = line end
end

local threadId = 0
function setup(thread)
  thread:set("id", threadId)
  threadId = threadId + 1
end

local requests = {}
local n = 0
local i = 0
function init(args)
  for k = 1, #tokens do
    requests[k] = wrk.format("GET", "/api/items", { ["Authorization"] = "Bearer " .. tokens[k] })
  end
  n = #requests
  -- Threads start at different offsets so they do not walk the list in lockstep.
  i = ((id or 0) * 487) % n
end

function request()
  i = i % n + 1
  return requests[i]
end

function done(summary, latency, _)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT rps=%.0f p50_ms=%.3f p99_ms=%.3f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
