-- Frees an Idempotency-Key whose fusion was never enqueued (refused, or the enqueue failed).
-- KEYS[1]: the key's record. ARGV[1]: the fusion id that claimed it.
-- Returns 1 when freed, 0 when the record is another fusion's or gone (nothing is touched).
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
