-- Hands a line's lane on to the next line no lane has taken, once per line: the line run again finds
-- the line its lane went to the first time. While the batch is not running (cancelling, ending, past
-- its window) the lane ends there (recorded as -1); a batch gone hands nothing on and writes nothing.
-- KEYS[1] the batch's record, KEYS[2] its lanes, KEYS[3] its answers
-- ARGV[1] the line index, ARGV[2] now (ms)
-- Returns {1 when handed on by this call (0 when found), then the next line unless there is none or
-- it is answered}.
local purge = redis.call("HGET", KEYS[1], "purge_at")
if not purge then return {1} end
local fresh = 0
local nextLine = redis.call("HGET", KEYS[2], ARGV[1])
if nextLine then
  nextLine = tonumber(nextLine)
else
  fresh = 1
  nextLine = -1
  local status = redis.call("HGET", KEYS[1], "status")
  local expires = tonumber(redis.call("HGET", KEYS[1], "expires_at") or "0") * 1000
  if status == "in_progress" and tonumber(ARGV[2]) < expires then
    local cursor = tonumber(redis.call("HGET", KEYS[2], "cursor") or "0")
    local total = tonumber(redis.call("HGET", KEYS[1], "total") or "0")
    if cursor < total then
      nextLine = cursor
      redis.call("HSET", KEYS[2], "cursor", tostring(cursor + 1))
    end
  end
  redis.call("HSET", KEYS[2], ARGV[1], tostring(nextLine))
  redis.call("PEXPIREAT", KEYS[2], purge)
end
if nextLine < 0 or redis.call("HEXISTS", KEYS[3], tostring(nextLine)) == 1 then return {fresh} end
return {fresh, nextLine}
