-- wrk script: one Authorization header per request, rotating through the
-- tokens of the file named by TOKENS (one per line).
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
local i = 0
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "/v1/authorize?zone=api", { ["Authorization"] = "Bearer " .. tokens[i] })
end
