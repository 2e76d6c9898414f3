-- Takes a slot of an API key's fusions in flight; taking the same fusion again renews its lease.
-- KEYS[1]: the key's slots (fusion id -> lease expiry, ms).
-- ARGV[1]: the lease (ms); ARGV[2]: slots allowed; ARGV[3]: the fusion id.
-- Returns {1, slots held} when taken, else {0, slots held}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local count = redis.call('ZCARD', KEYS[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  if count >= limit then return {0, count} end
  count = count + 1
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
redis.call('PEXPIRE', KEYS[1], lease)
return {1, count}
