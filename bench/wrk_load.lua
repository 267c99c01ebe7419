-- wrk load for bench/api_latency.py (--loader wrk): one operation per run, closed loop.
--
-- wrk (C, epoll) costs a small fraction of locust's CPU per request, so on a 2-core machine
-- shared with the server it leaves the cores to the server. Each of wrk's connections is one
-- client sending its next request as soon as the previous answer arrives.
--
-- Configured by environment (api_latency.py sets it):
--   BENCH_REQUESTS  a file, one request per line: "GET<TAB>path" or "POST<TAB>path<TAB>body";
--                   a body's "@ID@" is replaced by a fresh event id (every event writes)
--   BENCH_KEY       the API key (X-API-Key)
--   BENCH_RESULT    where done() writes {"requests", "errors", "non2xx", "p50_ms", ...} as JSON
--   BENCH_PAUSE_MS  optional: each connection waits this long after an answer (wrk's delay())
-- Each thread starts at its own seeded place in the file and picks lines at random.

local lines = {}
local counter = 0
local prefix = ""

local function load_lines()
  local list = {}
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    list[#list + 1] = line
  end
  return list
end

local threads = {}

local pause_ms = tonumber(os.getenv("BENCH_PAUSE_MS") or "0") or 0
if pause_ms > 0 then -- defined only when asked: wrk schedules a timer per request when it exists
  function delay()
    return pause_ms
  end
end

function setup(thread)
  thread:set("thread_id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  lines = load_lines()
  math.randomseed(thread_id * 7919)
  prefix = string.format("wrk-%d-%d-%d-", os.time(), thread_id, math.random(1, 1000000000))
  wrk.headers["X-API-Key"] = os.getenv("BENCH_KEY")
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local line = lines[math.random(1, #lines)]
  local method, path, body = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
  if method == "POST" then
    counter = counter + 1
    body = body:gsub("@ID@", prefix .. counter, 1)
    return wrk.format("POST", path, nil, body)
  end
  return wrk.format("GET", path)
end

non2xx = 0 -- global: done() reads it from every thread

function response(status, headers, body)
  if status >= 300 then
    non2xx = non2xx + 1
    if non2xx <= 3 then
      io.stderr:write(string.format("status %d: %s\n", status, body:sub(1, 200)))
    end
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + (thread:get("non2xx") or 0)
  end
  local errors = summary.errors
  local out = io.open(os.getenv("BENCH_RESULT"), "w")
  out:write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": %d, "non2xx": %d, "p50_ms": %.2f, '
      .. '"p95_ms": %.2f, "p99_ms": %.2f, "mean_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6,
    errors.connect + errors.read + errors.write + errors.timeout, failed + errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000, latency.max / 1000))
  out:close()
end
