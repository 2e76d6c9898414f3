-- Extends the leases that still exist (ZADD XX): a lapsed lease is not taken back.
-- KEYS[1]: a sorted set of lease ids scored by their expiry (ms, Redis's clock).
-- ARGV[1]: the lease (ms); ARGV[2..]: the lease ids. Returns 1.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], lease)
return 1
