--[[ find_contacts: resolve many contact references of one org in one call (a router's batch).
KEYS[1] contacts hash (id -> JSON)   KEYS[2] email index (address -> id)   KEYS[3] phone index (E.164 -> id)
ARGV pairs: kind ("id" | "email" | "phone"), value (emails lower-cased, phones E.164 by the caller)
Returns one item per pair, in order: the contact's JSON, or false when there is none.
Read-only; the indexes are kept exact by upsert_contact.lua. One Cluster slot (the org's tag). ]]
local index = {email = KEYS[2], phone = KEYS[3]}
local out = {}
for i = 1, #ARGV, 2 do
  local kind, id = ARGV[i], ARGV[i + 1]
  if kind ~= 'id' then id = redis.call('HGET', index[kind], id) end
  out[#out + 1] = id and redis.call('HGET', KEYS[1], id) or false
end
return out
