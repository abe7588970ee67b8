-- Stores a new user token's digest and its creation time together (one slot: the org's tag).
-- KEYS[1] tokens hash (sha256 -> user), KEYS[2] token-times hash.
-- ARGV: digest, user, '<token id>:created', now (ms).
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
return 1
