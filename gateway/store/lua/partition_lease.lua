--[[ partition_lease: hold or give back the right to read one partition stream.
KEYS[1] lease key (string: the holder's consumer name)
ARGV[1] caller's consumer name   ARGV[2] "hold" | "release"   ARGV[3] lease length (ms, hold)
hold: 1 when the caller holds the lease now (taken while free, or renewed), 0 when another
consumer holds it. release: 1 when the caller held it (now free), 0 otherwise.
Invariant: only the holder renews or drops the lease; a holder that stops renewing (dead, frozen)
loses it after one lease length. While a lease is held, only its holder reads new entries of the
partition, so one partition's batches are routed one after the other, in stream order. ]]
local current = redis.call('GET', KEYS[1])
if ARGV[2] == 'release' then
  if current ~= ARGV[1] then return 0 end
  redis.call('DEL', KEYS[1])
  return 1
end
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
  return 1
end
if current then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[3]))
return 1
