-- Whether a batch line may run now, and if so marks it running, in one step (a cancel that lands
-- before sees it not start; one that lands after finds it in the running set).
-- KEYS[1] the batch's record, KEYS[2] its answers, KEYS[3] its running lines
-- ARGV[1] the line index, ARGV[2] now (ms)
-- Returns "answered" (already answered: nothing to do), "cancelled", "ended" (the batch is ending or
-- ended without it: expired, say), "expired" (its window is over), "gone" (the batch's record expired)
-- or "run".
if redis.call("HEXISTS", KEYS[2], ARGV[1]) == 1 then return "answered" end
local status = redis.call("HGET", KEYS[1], "status")
if not status then return "gone" end
if status == "cancelling" or status == "cancelled" then return "cancelled" end
if status ~= "in_progress" then return "ended" end
local expires = tonumber(redis.call("HGET", KEYS[1], "expires_at") or "0")
if tonumber(ARGV[2]) >= expires * 1000 then return "expired" end
redis.call("SADD", KEYS[3], ARGV[1])
redis.call("PEXPIREAT", KEYS[3], redis.call("HGET", KEYS[1], "purge_at"))
return "run"
