-- Appends a fusion's events to its stream and announces each on the fusion's channel. A stream ends
-- at its terminal entry (`final` or `error`): nothing is appended after it (a late writer, a cancel
-- that came first, the events given after it in the same call). When these events end the stream,
-- their outcome goes into the fusion's meta (if it has one), in the same step, for the listing; a
-- fusion with a webhook (meta field `webhook`) gets it marked `due` there too (webhooks/webhook-outbox.ts).
-- KEYS[1]: the events stream; KEYS[2]: the fusion's meta (a hash); KEYS[3]: the steps of the fusion's
-- turn that sent output (a hash, see `EventWriter.appendStepOutput`).
-- ARGV[1]: TTL of the stream (seconds); ARGV[2]: the channel; ARGV[3]: the outcome's status, "" when
-- the stream goes on; ARGV[4]: its cost, "" when unknown; ARGV[5]: the turn steps whose output these
-- events carry, space-separated ("" for none): recorded in KEYS[3] (TTL R) when anything is appended,
-- in the same step, so a retry of such a step knows that its output reached the stream; then pairs
-- (type, payload).
-- Publishes `id|prev|type|payload` per entry; returns the last id of the stream.
--
-- The stream's TTL (R = ARGV[1]) is set only when needed, not on every append:
-- - by the append that creates the stream, so no stream ever exists without one (cancel-fusion.lua,
--   the only other writer, sets it whenever it appends);
-- - by the append of its terminal entry: a finished stream is kept R after its end;
-- - by an append whose entries fall in another R/2-wide window of time than the entry before them
--   (windows counted on the entries' ids, epoch milliseconds), i.e. at most once per R/2 of a long
--   fusion. So after any append the stream lives at least R/2 more: the last renewal was less than
--   R/2 before it. A fusion whose worker died mid-way (abandoned, no terminal entry) thus loses its
--   stream between R/2 and R after its last entry; a retried job that appends again finds it still
--   there within R/2, or creates a new one (with its TTL). The fusion's meta and conversation live
--   FUSION_TIMEOUT + R from the enqueue, and the gateway reads a missing stream of a fusion whose turn
--   job ended as expired (expired-events.ts).
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev = '0-0'
if last[1] then
  prev = last[1][1]
  local fields = last[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 't' and (fields[i + 1] == 'final' or fields[i + 1] == 'error') then return prev end
  end
end
local first = prev
local ended = false
local id = prev
for i = 6, #ARGV, 2 do
  id = redis.call('XADD', KEYS[1], '*', 't', ARGV[i], 'd', ARGV[i + 1])
  redis.call('PUBLISH', ARGV[2], id .. '|' .. prev .. '|' .. ARGV[i] .. '|' .. ARGV[i + 1])
  prev = id
  if ARGV[i] == 'final' or ARGV[i] == 'error' then
    ended = true
    break
  end
end
if id ~= first then
  local window = tonumber(ARGV[1]) * 500
  local function windowOf(entry) return math.floor(tonumber(string.match(entry, '^(%d+)')) / window) end
  if first == '0-0' or ended or windowOf(id) ~= windowOf(first) then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
  end
  if ARGV[5] ~= '' then
    for step in string.gmatch(ARGV[5], '%S+') do redis.call('HSET', KEYS[3], step, '1') end
    redis.call('EXPIRE', KEYS[3], ARGV[1])
  end
end
if ARGV[3] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[2], 'status', ARGV[3])
  if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], 'cost', ARGV[4]) end
  if redis.call('HEXISTS', KEYS[2], 'webhook') == 1 then redis.call('HSET', KEYS[2], 'webhook_state', 'due') end
end
return id
