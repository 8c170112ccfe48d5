-- wrk script for bench/soak.sh: rotates through a mixed request list and
-- checks every response against what its request class allows.
--
-- MIX names a file of tab-separated lines, one request each:
--   CLASS <TAB> PATH <TAB> TOKEN        (TOKEN empty: no Authorization)
-- CLASS is the expected outcome, "reason@zone" (e.g. "ok@hs",
-- "signature_invalid@rs", "no_zone@"), or "replay@once" for a token of the
-- replay zone (allowed on its first use, `replayed` after).
--
-- Why the expected outcome is read from the response, not from the
-- request: one wrk thread drives all its connections through one Lua
-- state, and response() is not told which connection (so which request)
-- it answers; responses of different connections interleave. So every
-- response is checked against itself: the body names the decision's
-- reason and zone, and
--   * the status must be the one the contract gives that reason (200 ok;
--     403 forbidden and no_zone; 401 for every other reason the mix can
--     produce), with the matching WWW-Authenticate error_description on a
--     deny and the zone's forward header on an allow;
--   * "reason@zone" must be a class of the mix (no other outcome can be
--     right for any request sent), and a replay-zone answer may be only
--     `ok` or `replayed`.
-- Then, per class, the responses can never outnumber the requests sent
-- (checked by soak.sh: a forged token allowed would show as one more
-- "ok@zone" than sent), and per request the audit log settles the rest:
-- soak.sh matches each audit line to its request by the token's SHA-256.
--
-- SOAK_RESULT names the file done() writes its counts to (key value lines).

local mix = {}
local classes = {}
local n = 0
local i = 0

sent = {}
got = {}
statuses = {}
unexpected = 0
samples = {}
allowed_once = 0

local function expected_status(reason)
  if reason == "ok" then return 200 end
  if reason == "forbidden" or reason == "no_zone" then return 403 end
  return 401
end

function init(args)
  for line in io.lines(os.getenv("MIX")) do
    local class, path, tok = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    local h = {}
    if tok ~= "" then h["Authorization"] = "Bearer " .. tok end
    n = n + 1
    mix[n] = { class = class, req = wrk.format("GET", path, h) }
    classes[class] = true
  end
end

function request()
  i = i % n + 1
  local r = mix[i]
  sent[r.class] = (sent[r.class] or 0) + 1
  return r.req
end

local function flag(why, status, body)
  unexpected = unexpected + 1
  if #samples < 10 then
    samples[#samples + 1] = why .. ": " .. status .. " " .. (body or ""):sub(1, 200)
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local reason = body and body:match('"reason":"([%w_]+)"')
  local zone = body and body:match('"zone":"([^"]*)"')
  if reason == nil or zone == nil then
    return flag("no decision in the body", status, body)
  end
  local class = reason .. "@" .. zone
  if zone == "once" and (reason == "ok" or reason == "replayed") then
    class = "replay@once"
    if reason == "ok" then allowed_once = allowed_once + 1 end
  end
  got[class] = (got[class] or 0) + 1
  if not classes[class] then
    return flag("outcome of no request class (" .. class .. ")", status, body)
  end
  if status ~= expected_status(reason) then
    return flag("status does not fit " .. reason, status, body)
  end
  if status == 200 then
    local sub = body:match('"claims":{"sub":"([^"]*)"')
    if sub == nil or headers["X-Auth-Subject"] ~= sub then
      return flag("X-Auth-Subject missing or not the trusted sub", status, body)
    end
  else
    local wa = headers["WWW-Authenticate"] or ""
    local want = reason == "token_missing" and 'Bearer realm="claimgate"'
        or ('error_description="' .. reason .. '"')
    if not wa:find(want, 1, true) then
      return flag("WWW-Authenticate does not fit " .. reason, status, body)
    end
  end
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local f = assert(io.open(os.getenv("SOAK_RESULT"), "w"))
  local e = summary.errors
  f:write(string.format("requests %d\nduration_us %d\n", summary.requests, summary.duration))
  f:write(string.format("errors_connect %d\nerrors_read %d\nerrors_write %d\nerrors_timeout %d\n",
    e.connect, e.read, e.write, e.timeout))
  f:write(string.format("p50_us %d\np99_us %d\nmax_us %d\n",
    latency:percentile(50), latency:percentile(99), latency.max))
  local u, once = 0, 0
  local s, g, st = {}, {}, {}
  for _, t in ipairs(threads) do
    u = u + t:get("unexpected")
    once = once + t:get("allowed_once")
    for k, v in pairs(t:get("sent")) do s[k] = (s[k] or 0) + v end
    for k, v in pairs(t:get("got")) do g[k] = (g[k] or 0) + v end
    for k, v in pairs(t:get("statuses")) do st[k] = (st[k] or 0) + v end
    for _, line in ipairs(t:get("samples")) do
      f:write("sample ", (line:gsub("\n", " ")), "\n")
    end
  end
  f:write(string.format("unexpected %d\nallowed_once %d\n", u, once))
  for k, v in pairs(s) do f:write(string.format("sent %s %d\n", k, v)) end
  for k, v in pairs(g) do f:write(string.format("got %s %d\n", k, v)) end
  for k, v in pairs(st) do f:write(string.format("status %d %d\n", k, v)) end
  f:close()
end
