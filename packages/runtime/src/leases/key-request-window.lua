-- Counts one request of an API key in a sliding window, unless the window is full.
-- KEYS[1]: the key's request log (request id -> arrival, ms).
-- ARGV[1]: the window (ms); ARGV[2]: requests allowed per window; ARGV[3]: this request's id.
-- Returns {1, count, 0} when counted, else {0, count, ms until the oldest request leaves the window}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = window
  if oldest[2] then wait = tonumber(oldest[2]) + window - now end
  return {0, count, wait}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, count + 1, 0}
