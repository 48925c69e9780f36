-- wrk script for benches/lib.sh: counts the responses that lack the status or the body text
-- given after `--`, and prints one line with the latency distribution and throughput:
--   wrk-report requests=N min_ms=... p50_ms=... p90_ms=... p99_ms=... max_ms=... rps=...
--              unexpected=N socket_errors=N
-- Usage: wrk ... -s benches/wrk-report.lua URL -- EXPECTED_STATUS EXPECTED_TEXT

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   expected_status = tonumber(args[1]) or 200
   expected = args[2] or ""
   unexpected = 0
end

function response(status, headers, body)
   if status ~= expected_status or not string.find(body or "", expected, 1, true) then
      unexpected = unexpected + 1
   end
end

function done(summary, latency, requests)
   local total_unexpected = 0
   for _, thread in ipairs(threads) do
      total_unexpected = total_unexpected + thread:get("unexpected")
   end
   local errors = summary.errors
   local socket_errors = errors.connect + errors.read + errors.write + errors.timeout
   local function ms(microseconds) return string.format("%.3f", microseconds / 1000) end
   io.write(string.format(
      "wrk-report requests=%d min_ms=%s p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s rps=%.1f unexpected=%d socket_errors=%d\n",
      summary.requests, ms(latency.min), ms(latency:percentile(50)), ms(latency:percentile(90)),
      ms(latency:percentile(99)), ms(latency.max), summary.requests / (summary.duration / 1e6),
      total_unexpected, socket_errors))
end
