-- wrk script for the benchmarks: optional method, body and fixed per-connection delay from
-- the environment, and a one-line JSON summary at the end that wrk.mjs parses.
-- Latencies from wrk are in microseconds.
local method = os.getenv("WRK_METHOD")
local body_file = os.getenv("WRK_BODY_FILE")
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0")

if method ~= nil and method ~= "" then
  wrk.method = method
end
if body_file ~= nil and body_file ~= "" then
  local file = assert(io.open(body_file, "rb"))
  wrk.body = file:read("*a")
  file:close()
end

-- wrk waits this long after each response before the connection sends its next request,
-- which caps the rate at about connections * 1000 / delay_ms requests per second.
if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"durationUs":%d,"bytes":%d,"connectErrors":%d,"readErrors":%d,' ..
    '"writeErrors":%d,"statusErrors":%d,"timeouts":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
