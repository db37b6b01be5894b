-- wrk script: POSTs a ~1 KiB JSON text with some PII to the path given as the first script
-- argument (default /api/v1/analyze), with the API key of $BENCH_API_KEY when set.
-- Usage: wrk -s api/bench/request.lua http://127.0.0.1:8000 -- /api/v1/analyze/async

local sentence = "Dear team, please update the record of Jane Doe (SSN 536-22-1234), reachable at " ..
  "jane.doe@example.com or +1 212-555-0187; her card 4111 1111 1111 1111 expires next year. "
local text = ""
while #text < 1024 do text = text .. sentence end
text = string.sub(text, 1, 1024)

local path = "/api/v1/analyze"

function init(args)
  if args[1] ~= nil then path = args[1] end
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("BENCH_API_KEY")
if key ~= nil and key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
wrk.body = '{"text": "' .. text .. '", "frameworks": ["HIPAA", "PCI_DSS"]}'

function request()
  return wrk.format(nil, path)
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx or socket errors: %d\n",
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
