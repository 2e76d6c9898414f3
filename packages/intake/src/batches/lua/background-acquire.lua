-- Takes one of an owner's background-fusion permits, or finds the one the fusion holds.
-- KEYS[1] the owner's permits (sorted set of fusion ids scored by when their hold ends, ms)
-- ARGV[1] now (ms), ARGV[2] the end of this hold (ms), ARGV[3] the cap, ARGV[4] the fusion id
-- Holds past their end are dropped first (a worker that died never freed them). Returns 1 when held.
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", "(" .. ARGV[1])
if not redis.call("ZSCORE", KEYS[1], ARGV[4]) and redis.call("ZCARD", KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call("ZADD", KEYS[1], ARGV[2], ARGV[4])
redis.call("PEXPIREAT", KEYS[1], redis.call("ZRANGE", KEYS[1], -1, -1, "WITHSCORES")[2])
return 1
