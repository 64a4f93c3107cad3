-- wrk script for bench/ledger.sh: every request is a new refund (its own Idempotency-Key
-- and its own sandbox ticket), so each one writes an intent and an outcome to the ledger.
local counter = 0
local threads = 0
-- `thread_id` is a global each thread gets from setup() (a local here would hide it).

function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

function request()
  counter = counter + 1
  local id = string.format("%s-%d-%d", os.getenv("RUN") or "run", thread_id or 0, counter)
  local body = '{"provider":"fv","target":{"tickets":["bulk-' .. id .. '"]},'
    .. '"amount":{"value":"10","currency":"EUR"}}'
  return wrk.format("POST", "/v1/refunds",
    {["Content-Type"] = "application/json", ["Idempotency-Key"] = "bench-" .. id}, body)
end
