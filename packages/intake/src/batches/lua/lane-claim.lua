-- Takes the next lines no lane has taken (at most ARGV[1]) for new lanes of a batch. While the batch
-- is not running (cancelling, ending, past its window) or is gone, it takes none and writes nothing.
-- KEYS[1] the batch's record, KEYS[2] its lanes
-- ARGV[1] the most lines to take, ARGV[2] now (ms)
-- Returns the lines taken.
local status = redis.call("HGET", KEYS[1], "status")
local expires = tonumber(redis.call("HGET", KEYS[1], "expires_at") or "0") * 1000
if status ~= "in_progress" or tonumber(ARGV[2]) >= expires then return {} end
local first = tonumber(redis.call("HGET", KEYS[2], "cursor") or "0")
local total = tonumber(redis.call("HGET", KEYS[1], "total") or "0")
local count = math.max(0, math.min(tonumber(ARGV[1]), total - first))
if count == 0 then return {} end
redis.call("HSET", KEYS[2], "cursor", tostring(first + count))
redis.call("PEXPIREAT", KEYS[2], redis.call("HGET", KEYS[1], "purge_at"))
local out = {}
for i = first, first + count - 1 do out[#out + 1] = i end
return out
