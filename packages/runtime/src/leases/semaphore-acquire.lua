-- Takes a permit of a Redis semaphore, or queues the caller (first come, first served).
-- KEYS[1]: held permits (lease id -> lease expiry); KEYS[2]: the queue (id -> arrival, us);
-- KEYS[3]: the waiters' heartbeats (id -> heartbeat expiry).
-- ARGV[1]: limit; ARGV[2]: lease (ms); ARGV[3]: a waiter's heartbeat TTL (ms); ARGV[4]: the caller's id.
-- Returns {1, 0} when granted, else {0, waiters ahead}.
local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now = math.floor(nowUs / 1000)
local limit = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local id = ARGV[4]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
for _, w in ipairs(gone) do
  redis.call('ZREM', KEYS[3], w)
  redis.call('ZREM', KEYS[2], w)
end
if redis.call('ZSCORE', KEYS[1], id) then
  redis.call('ZADD', KEYS[1], now + lease, id)
  redis.call('PEXPIRE', KEYS[1], lease)
  return {1, 0}
end
if not redis.call('ZSCORE', KEYS[2], id) then redis.call('ZADD', KEYS[2], nowUs, id) end
local held = redis.call('ZCARD', KEYS[1])
local rank = redis.call('ZRANK', KEYS[2], id)
if held + rank < limit then
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZADD', KEYS[1], now + lease, id)
  redis.call('PEXPIRE', KEYS[1], lease)
  return {1, 0}
end
redis.call('ZADD', KEYS[3], now + ttl, id)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return {0, held + rank - limit}
