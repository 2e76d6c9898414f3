-- Claims an Idempotency-Key for a new fusion, or reads the fusion that holds it.
-- KEYS[1]: the key's record (a hash: id, fingerprint, state).
-- ARGV[1]: the new fusion's id; ARGV[2]: the request's fingerprint; ARGV[3]: how long the claim lives
-- (ms) before it is committed (a gateway that dies while enqueueing leaves the key free again).
-- Returns {} when claimed, else {id, fingerprint, state} of the record that holds it.
local held = redis.call('HMGET', KEYS[1], 'id', 'fingerprint', 'state')
if held[1] then return held end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'fingerprint', ARGV[2], 'state', 'pending')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {}
