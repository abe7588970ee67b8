-- Every write of a call flow, and the live index "which flow answers calls to this number", in
-- one atomic step, so one published, enabled flow per number holds however many admins publish
-- or switch flows on at once: of two flows racing for one number, exactly one wins.
-- KEYS[1] the flow's hash, KEYS[2] the org's flow ids (set), KEYS[3] the live index (hash
-- E.164 -> flow id), KEYS[4] published revisions (hash '<flow>:<rev>' -> JSON), KEYS[5] retired
-- revisions (zset by ms), KEYS[6] last revision per flow (hash, never reset), KEYS[7] the org's
-- numbers (hash E.164 -> JSON; number_release.lua takes a number out of it before Twilio releases
-- it, so a flow never goes live on a number being or already released). All under {org}.
-- ARGV: op ('put' | 'publish' | 'delete'), flow id, now (ms), how long a retired revision is
-- kept (ms; calls in progress keep theirs), then for 'put': draft JSON, draft number,
-- enabled ('1' | '0' | '' = leave it).
-- Invariant: index[n] == flow  <=>  flow is published, enabled and its published number is n.
-- Returns {'ok', 'created'|'updated'} (put), {'ok', version, rev} (publish), {'ok'} (delete),
-- {'conflict', <the flow live on the number>, <that number>} or {'no_number', <number>} (it is no longer the
-- org's; nothing written) or {'not_found'}.
local flow_key, ids, index, revs, retired, seq = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local numbers = KEYS[7]
local op, flow, now, keep = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])

local function other_holder(number)
  if not number then return false end
  local holder = redis.call('HGET', index, number)
  if holder and holder ~= flow then return holder end
  return false
end

local function reindex(old_live, new_live, enabled)
  if old_live and (not enabled or old_live ~= new_live) and redis.call('HGET', index, old_live) == flow then
    redis.call('HDEL', index, old_live)
  end
  if enabled and new_live then redis.call('HSET', index, new_live, flow) end
end

local function retire(rev)
  if rev then redis.call('ZADD', retired, now, flow .. ':' .. rev) end
  local old = redis.call('ZRANGEBYSCORE', retired, '-inf', now - keep, 'LIMIT', 0, 100)
  if #old > 0 then
    redis.call('HDEL', revs, unpack(old))
    redis.call('ZREM', retired, unpack(old))
  end
end

if op == 'put' then
  local exists = redis.call('EXISTS', flow_key) == 1
  local enabled = ARGV[7]
  if enabled == '' then enabled = redis.call('HGET', flow_key, 'enabled') or '0' end
  local live = redis.call('HGET', flow_key, 'live_number')
  if enabled == '1' then
    local holder = other_holder(live)
    if holder then return {'conflict', holder, live} end
    if live and redis.call('HEXISTS', numbers, live) == 0 then return {'no_number', live} end
  end
  redis.call('HSET', flow_key, 'draft', ARGV[5], 'draft_number', ARGV[6], 'enabled', enabled, 'updated_ms', now)
  if not exists then
    redis.call('HSET', flow_key, 'created_ms', now)
    redis.call('SADD', ids, flow)
  end
  reindex(live, live, enabled == '1')
  return {'ok', exists and 'updated' or 'created'}
end

if redis.call('EXISTS', flow_key) == 0 then return {'not_found'} end

if op == 'publish' then
  local f = redis.call('HMGET', flow_key, 'draft', 'draft_number', 'enabled', 'live_number', 'rev', 'version')
  local draft, number, enabled, live, rev = f[1], f[2], f[3] == '1', f[4], f[5]
  if enabled then
    local holder = other_holder(number)
    if holder then return {'conflict', holder, number} end
    if redis.call('HEXISTS', numbers, number) == 0 then return {'no_number', number} end
  end
  local new_rev = redis.call('HINCRBY', seq, flow, 1)
  local version = (tonumber(f[6]) or 0) + 1
  redis.call('HSET', revs, flow .. ':' .. new_rev, draft)
  redis.call('HSET', flow_key, 'published', draft, 'live_number', number, 'version', version, 'rev', new_rev,
    'published_ms', now)
  reindex(live, number, enabled)
  retire(rev)
  return {'ok', version, new_rev}
end

if op == 'delete' then
  local f = redis.call('HMGET', flow_key, 'live_number', 'rev')
  reindex(f[1], false, false)
  retire(f[2])
  redis.call('DEL', flow_key)
  redis.call('SREM', ids, flow)
  return {'ok'}
end

return redis.error_reply('call_flow_write: unknown op ' .. tostring(op))
