-- wrk script: POST /api/v1/orders as one of the benchmark's buyers (a random
-- bearer token from the file given after `--`), 1 unit of a random demo SKU
-- and 100 points: the same order bench/pgbench/order.sql writes directly.
--
--   wrk -t2 -c8 -d20s -s bench/pgbench/order.lua http://127.0.0.1:18080 -- tokens.txt

local skus = { 101, 102, 201, 202, 301, 302, 401, 501 }
local tokens = {}

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      tokens[#tokens + 1] = line
    end
  end
  math.randomseed(os.time() + #tokens + math.floor(os.clock() * 1000000))
end

function request()
  local token = tokens[math.random(#tokens)]
  local sku = skus[math.random(#skus)]
  local body = '{"items":[{"sku_id":' .. sku .. ',"quantity":1}],"points":100}'
  return wrk.format("POST", "/api/v1/orders", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end
