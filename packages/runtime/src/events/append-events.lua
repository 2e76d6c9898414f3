-- Appends a fusion's events to its stream and announces each on the fusion's channel. A stream ends
-- at its terminal entry (`final` or `error`): nothing is appended after it (a late writer, a cancel
-- that came first). When these events end the stream, their outcome goes into the fusion's meta (if
-- it has one), in the same step, for the listing.
-- KEYS[1]: the events stream; KEYS[2]: the fusion's meta (a hash).
-- ARGV[1]: TTL of the stream (seconds); ARGV[2]: the channel; ARGV[3]: the outcome's status, "" when
-- the stream goes on; ARGV[4]: its cost, "" when unknown; then pairs (type, payload).
-- Publishes `id|prev|type|payload` per entry; returns the last id of the stream.
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev = '0-0'
if last[1] then
  prev = last[1][1]
  local fields = last[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 't' and (fields[i + 1] == 'final' or fields[i + 1] == 'error') then return prev end
  end
end
local id = prev
for i = 5, #ARGV, 2 do
  id = redis.call('XADD', KEYS[1], '*', 't', ARGV[i], 'd', ARGV[i + 1])
  redis.call('PUBLISH', ARGV[2], id .. '|' .. prev .. '|' .. ARGV[i] .. '|' .. ARGV[i + 1])
  prev = id
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
if ARGV[3] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[2], 'status', ARGV[3])
  if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], 'cost', ARGV[4]) end
end
return id
