-- Cancels a fusion on request and ends its stream, unless the stream already ended: sets the cancel
-- key (for jobs that start later), appends the error chunk and the `error` entry (each announced on
-- the fusion's channel, as append-events.lua does), records the outcome in the meta (if it has one)
-- with its webhook marked `due` when it has one (webhooks/webhook-outbox.ts), then announces the
-- cancel to every worker.
-- KEYS[1]: the events stream; KEYS[2]: the fusion's meta; KEYS[3]: the cancel key.
-- ARGV[1]: TTL of the stream (seconds); ARGV[2]: TTL of the cancel key (seconds); ARGV[3]: the
-- fusion's channel; ARGV[4]: the cancel channel; ARGV[5]: the fusion id; ARGV[6]: the error chunk;
-- ARGV[7]: the error entry. Returns 1 when it cancelled, 0 when the stream had already ended.
-- An outcome in the meta: it ended (its events may have expired since).
if redis.call('HEXISTS', KEYS[2], 'status') == 1 then return 0 end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev = '0-0'
if last[1] then
  prev = last[1][1]
  local fields = last[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 't' and (fields[i + 1] == 'final' or fields[i + 1] == 'error') then return 0 end
  end
end
redis.call('SET', KEYS[3], '1', 'EX', ARGV[2])
local entries = { { 'chunk', ARGV[6] }, { 'error', ARGV[7] } }
for _, entry in ipairs(entries) do
  local id = redis.call('XADD', KEYS[1], '*', 't', entry[1], 'd', entry[2])
  redis.call('PUBLISH', ARGV[3], id .. '|' .. prev .. '|' .. entry[1] .. '|' .. entry[2])
  prev = id
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[2], 'status', 'cancelled')
  if redis.call('HEXISTS', KEYS[2], 'webhook') == 1 then redis.call('HSET', KEYS[2], 'webhook_state', 'due') end
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
