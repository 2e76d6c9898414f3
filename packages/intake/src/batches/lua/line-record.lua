-- Records a batch line's answer exactly once, and counts it.
-- KEYS[1] the batch's record, KEYS[2] its answers, KEYS[3] its running lines
-- ARGV[1] the line index, ARGV[2] the stored answer, ARGV[3] the count it adds to ("completed" or "failed")
-- Returns 1 when this call recorded it, 0 when the line was answered before (its first answer stays).
local purge = redis.call("HGET", KEYS[1], "purge_at")
if not purge then return 0 end
redis.call("SREM", KEYS[3], ARGV[1])
if redis.call("HSETNX", KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call("PEXPIREAT", KEYS[2], purge)
redis.call("HINCRBY", KEYS[1], ARGV[3], 1)
return 1
