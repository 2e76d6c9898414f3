-- Admits one more file or batch into its owner's index, within the owner's cap.
-- KEYS[1] the owner's index (sorted set of ids scored by creation, ms)
-- ARGV[1] now (ms), ARGV[2] retention (ms), ARGV[3] cap, ARGV[4] the id, ARGV[5] the index's TTL (s)
-- Entries older than the retention have expired and are dropped first. Returns 1 when admitted, 0 when
-- the owner already keeps `cap` live entries.
local now = tonumber(ARGV[1])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", "(" .. (now - tonumber(ARGV[2])))
if redis.call("ZSCORE", KEYS[1], ARGV[4]) then return 1 end
if redis.call("ZCARD", KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call("ZADD", KEYS[1], now, ARGV[4])
redis.call("EXPIRE", KEYS[1], ARGV[5])
return 1
