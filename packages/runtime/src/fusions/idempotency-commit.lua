-- Commits a claimed Idempotency-Key once its fusion is enqueued: kept for the retention from now on.
-- KEYS[1]: the key's record. ARGV[1]: the fusion id that claimed it; ARGV[2]: the retention (ms).
-- Returns 1, or 0 when the record is another fusion's (the claim lapsed and was taken) or gone.
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'committed')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
