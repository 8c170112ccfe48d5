-- wrk script: a paced load. Each connection waits DELAY_MS (milliseconds,
-- may be fractional) before each request, so with C connections the
-- offered rate is about C * 1000 / (DELAY_MS + response time) requests/s;
-- bench_serve.sh sets DELAY_MS so that C * 1000 / DELAY_MS is half of the
-- measured peak. With TOKENS naming a file (one token a line) the
-- Authorization header rotates through it, as rotate.lua does; without
-- it, the request is the static one of the command line (-H ...).
--
-- wrk's delay() hook is read as whole milliseconds, so a fractional
-- DELAY_MS is spread over the requests (error diffusion): each delay is
-- 3 or 4 ms for 3.4, and the mean over the thread's requests is 3.4.
--
-- The latency wrk reports under this pacing is each request's own
-- response time, from the moment it is written: a request delayed by an
-- earlier slow one is not charged for the wait (no coordinated-omission
-- correction), so p99 here is a service time, not what an open-loop
-- client at this rate would see during a stall.
local d = tonumber(os.getenv("DELAY_MS") or "")
assert(d and d >= 0, "DELAY_MS must be a number of milliseconds")
local acc = 0

function delay()
  acc = acc + d
  local n = math.floor(acc)
  acc = acc - n
  return n
end

local file = os.getenv("TOKENS")
if file and file ~= "" then
  local tokens = {}
  for line in io.lines(file) do tokens[#tokens + 1] = line end
  local i = 0
  request = function()
    i = i % #tokens + 1
    return wrk.format("GET", "/v1/authorize?zone=api", { ["Authorization"] = "Bearer " .. tokens[i] })
  end
end
