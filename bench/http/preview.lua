-- wrk script: POST /api/v1/checkout/preview as the demo customer.
-- TOKEN comes from the environment (bench/http/run.sh logs in first).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"items":[{"sku_id":301,"quantity":1},{"sku_id":501,"quantity":2},{"sku_id":201,"quantity":1}],"use_max_points":true}'
