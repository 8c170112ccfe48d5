-- wrk script: a load at a constant rate. RATE (requests/s, for this wrk
-- thread; bench_serve.sh runs one) sets a schedule: request i is due at
-- start + i / RATE. wrk calls delay() when a connection is ready for its
-- next request; the answer is the time left until the next due slot, so
-- the connections together send at RATE whatever the response times, as
-- long as one of them is free when a slot comes (32 connections against a
-- server answering in well under a millisecond). A thread that falls more
-- than one slot behind restarts the schedule from now instead of sending
-- a burst to catch up.
--
-- wrk's delay() is read as whole milliseconds: a wait is rounded to the
-- nearest, so single requests are early or late by up to 0.5 ms, but the
-- schedule is absolute and the mean rate does not drift.
--
-- The latency wrk reports is each request's own response time, from the
-- moment it is written: a request held back behind a slow one is not
-- charged for the wait (no coordinated-omission correction), so p99 here
-- is a service time, not what an open-loop client would see in a stall.
-- With TOKENS naming a file (one token a line) the Authorization header
-- rotates through it, as rotate.lua does; without it, the request is the
-- static one of the command line (-H ...).
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } cg_timespec;
int clock_gettime(int clk, cg_timespec *ts);
]]
local ts = ffi.new("cg_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local rate = tonumber(os.getenv("RATE") or "")
assert(rate and rate > 0, "RATE must be a number of requests per second")
local period = 1000 / rate
local due

function delay()
  local t = now_ms()
  if due == nil or due < t - period then
    due = t
  end
  local wait = due - t
  due = due + period
  return math.floor(wait + 0.5)
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
