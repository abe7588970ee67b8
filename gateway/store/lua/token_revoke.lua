-- Revokes a user's tokens (one, or all of them; and deletes the user) and publishes the
-- revocation on the user's live channel in one atomic step: a token issued meanwhile is never
-- missed, a revoked token stops working at once and its sockets hear of it (gateway.store.live).
-- KEYS[1] tokens hash (sha256 -> user), KEYS[2] token-times hash, KEYS[3] users hash.
-- ARGV: user, token id ('' = every token of the user), '1' = delete the user too, live channel.
-- A token's id is 'tk_' .. the first 20 hex digits of its digest (gateway.store.tenancy.token_id);
-- the message is 'revoked\n' .. the sorted ids as a JSON list, or null for every token.
-- Returns {1 if the user was deleted else 0, tokens revoked}.
local user, tid, delete_user, channel = ARGV[1], ARGV[2], ARGV[3] == '1', ARGV[4]
local flat = redis.call('HGETALL', KEYS[1])
local digests, ids = {}, {}
for i = 1, #flat, 2 do
  if flat[i + 1] == user then
    local id = 'tk_' .. string.sub(flat[i], 1, 20)
    if tid == '' or id == tid then
      digests[#digests + 1] = flat[i]
      ids[#ids + 1] = id
    end
  end
end
local removed = 0
if delete_user then removed = redis.call('HDEL', KEYS[3], user) end
if #digests > 0 then
  redis.call('HDEL', KEYS[1], unpack(digests))
  local fields = {}
  for _, id in ipairs(ids) do
    fields[#fields + 1] = id .. ':created'
    fields[#fields + 1] = id .. ':used'
  end
  redis.call('HDEL', KEYS[2], unpack(fields))
end
if #digests > 0 or delete_user then
  local names = 'null'
  if not delete_user then
    table.sort(ids)
    names = '["' .. table.concat(ids, '","') .. '"]'
  end
  redis.call('PUBLISH', channel, 'revoked\n' .. names)
end
return {removed, #digests}
