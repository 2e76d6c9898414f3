-- Records one delivery attempt of a fusion's webhook, and its final state when it has one, under the
-- fusion's hash tag: the attempt goes at the end of the list of attempts, which keeps the last ARGV[2]
-- and lives exactly as long as the fusion's meta. A fusion whose meta expired records nothing (its
-- delivery may still go on: the job carries what it sends).
-- KEYS[1]: the fusion's meta (a hash); KEYS[2]: its webhook attempts (a list).
-- ARGV[1]: the attempt (JSON); ARGV[2]: how many attempts are kept; ARGV[3]: the webhook's state
-- (`delivered`, `failed`), "" while it is retried. Returns 1 when recorded, 0 when the meta is gone.
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'webhook_state', ARGV[3]) end
return 1
