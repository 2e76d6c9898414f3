-- Moves a batch to a new status when it is in one of the statuses it may leave, stamping the time.
-- KEYS[1] the batch's record
-- ARGV[1] the new status, ARGV[2] the field of its timestamp, ARGV[3] now (s), ARGV[4...] the statuses it may leave
-- Returns the status after (unchanged when it was in none of them); false when the batch is gone.
local status = redis.call("HGET", KEYS[1], "status")
if not status then return false end
for i = 4, #ARGV do
  if status == ARGV[i] then
    redis.call("HSET", KEYS[1], "status", ARGV[1], ARGV[2], ARGV[3])
    return ARGV[1]
  end
end
return status
