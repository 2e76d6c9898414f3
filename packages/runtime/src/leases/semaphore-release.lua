-- Gives back a semaphore permit, or takes a waiter out of the queue.
-- KEYS[1..3]: held permits, queue, waiters' heartbeats (see semaphore-acquire.lua). ARGV[1]: the id.
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
