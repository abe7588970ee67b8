--[[ claim_orphans: take over the pending entries of one dead router consumer.
KEYS[1] partition stream
ARGV[1] consumer group   ARGV[2] dead consumer   ARGV[3] claiming consumer   ARGV[4] max entries
Moves up to ARGV[4] of the dead consumer's pending entries to the claimer (XCLAIM resets their idle
time and counts a delivery) and returns the live ones as XCLAIM does; entries trimmed meanwhile
(nothing left to route) are acknowledged, so they never stay pending. When the dead consumer has
nothing pending left, it is removed from the group. The caller decided the consumer is dead (its heartbeat key is gone; names
are unique per process start, so a dead consumer never comes back). Invariant: one script, so two
routers claiming the same dead consumer at once split its entries — each entry moves to exactly one
of them, and DELCONSUMER never drops a pending entry. ]]
local limit = tonumber(ARGV[4])
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', limit, ARGV[2])
local claimed = {}
if #pending > 0 then
  local ids = {}
  for i, entry in ipairs(pending) do ids[i] = entry[1] end
  local reply = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, unpack(ids))
  local live = {}
  for _, entry in ipairs(reply) do
    if entry then
      live[entry[1]] = true
      claimed[#claimed + 1] = entry
    end
  end
  for _, id in ipairs(ids) do
    if not live[id] then redis.call('XACK', KEYS[1], ARGV[1], id) end
  end
end
if #pending < limit then
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return claimed
