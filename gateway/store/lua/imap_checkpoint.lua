--[[ imap_checkpoint: record that a mailbox is handled up to a UID, only by the lease holder.
KEYS[1] lease key   KEYS[2] checkpoint hash (uidvalidity, uid, high_water_ms, updated_ms)
ARGV[1] holder token   ARGV[2] "advance" | "reset"   ARGV[3] uidvalidity   ARGV[4] uid
ARGV[5] high-water INTERNALDATE (ms) of the handled message, "" = none   ARGV[6] now (ms)
ARGV[7] the mailbox's epoch (which UID space the checkpoint belongs to; kept by "reset")
"reset" replaces the checkpoint (baseline, re-baseline after a UIDVALIDITY change); "advance"
only moves the UID forward within the same UIDVALIDITY and keeps the largest high-water mark.
Returns 1 written, 0 not newer (a replay), -1 the caller does not hold the lease, -2 the stored
UIDVALIDITY differs (the caller must re-plan). Invariant: the checkpoint never moves back and a
process that lost its lease can no longer move it, so no message is skipped or handled twice. ]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if ARGV[2] == 'reset' then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'uidvalidity', ARGV[3], 'uid', ARGV[4], 'updated_ms', ARGV[6], 'epoch', ARGV[7] or '0')
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[2], 'high_water_ms', ARGV[5]) end
  return 1
end
local validity = redis.call('HGET', KEYS[2], 'uidvalidity')
if validity ~= ARGV[3] then return -2 end
if tonumber(redis.call('HGET', KEYS[2], 'uid') or '0') >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[2], 'uid', ARGV[4], 'updated_ms', ARGV[6])
if ARGV[5] ~= '' then
  local old = tonumber(redis.call('HGET', KEYS[2], 'high_water_ms') or '0')
  if tonumber(ARGV[5]) > old then redis.call('HSET', KEYS[2], 'high_water_ms', ARGV[5]) end
end
return 1
