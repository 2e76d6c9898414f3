-- Appends a fusion's events to its stream and announces each on the fusion's channel.
-- KEYS[1]: the events stream. ARGV[1]: TTL of the stream (seconds); ARGV[2]: the channel;
-- then pairs (type, payload). Publishes `id|prev|type|payload` per entry; returns the last id.
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev = '0-0'
if last[1] then prev = last[1][1] end
local id = prev
for i = 3, #ARGV, 2 do
  id = redis.call('XADD', KEYS[1], '*', 't', ARGV[i], 'd', ARGV[i + 1])
  redis.call('PUBLISH', ARGV[2], id .. '|' .. prev .. '|' .. ARGV[i] .. '|' .. ARGV[i + 1])
  prev = id
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return id
