-- wrk script: counts 200 / 429 / other per thread and prints the admitted rate at the end.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok, limited, other = 0, 0, 0
  local token = os.getenv("TOKEN")
  if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 429 then limited = limited + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local o, l, x = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); l = l + t:get("limited"); x = x + t:get("other")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("200: %d  429: %d  other: %d  admitted/s: %.1f  (limit under test: %s)\n",
    o, l, x, o / seconds, os.getenv("LIMIT") or "?"))
end
