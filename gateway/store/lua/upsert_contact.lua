--[[ upsert_contact: store (or delete) a contact and keep its lookup indexes exact.
KEYS[1] contacts hash (id -> JSON)   KEYS[2] email -> id hash   KEYS[3] phone -> id hash
ARGV[1] contact id   ARGV[2] contact JSON, or "" to delete   ARGV[3] number of emails N
ARGV[4 .. 3+N] emails (lower-case)   ARGV[4+N ..] phones (E.164)
A stored record's phones are {number, type} objects (bare E.164 strings in records written before
phones were typed): both are unindexed on update.
Invariant: an index entry points only at the contact whose record holds that address, so an
event never finds a contact through an address it no longer has. ]]
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local o = cjson.decode(old)
  for _, e in ipairs(o.emails or {}) do
    if redis.call('HGET', KEYS[2], e) == ARGV[1] then redis.call('HDEL', KEYS[2], e) end
  end
  for _, p in ipairs(o.phones or {}) do
    if type(p) == 'table' then p = p.number end
    if p and redis.call('HGET', KEYS[3], p) == ARGV[1] then redis.call('HDEL', KEYS[3], p) end
  end
end
if ARGV[2] == '' then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local n = tonumber(ARGV[3])
for i = 4, 3 + n do redis.call('HSET', KEYS[2], ARGV[i], ARGV[1]) end
for i = 4 + n, #ARGV do redis.call('HSET', KEYS[3], ARGV[i], ARGV[1]) end
return 1
