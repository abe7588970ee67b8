--[[ reminder_write: create, reschedule, cancel, claim or finish a reminder, each in one step.
KEYS[1] the org's reminders hash (id -> JSON record)   KEYS[2] its index (sorted set, score 0: ids by lex)
ARGV[1] operation   ARGV[2] reminder id   ARGV[3] now (ms)   ARGV[4] JSON argument (see below)
Operations:
- 'put' (ARGV[4]: the fields to set): create or replace the schedule; status becomes 'scheduled',
  `version` grows by one (a job of an older version does nothing), the last outcome is cleared.
  'update' does the same but only for an existing reminder that is not cancelled.
- 'cancel': status 'cancelled' and `version` + 1 (no job fires it); a reminder already sent,
  skipped or failed is left as it is.
- 'claim' (ARGV[4]: the job's version): a job may send only while its version is the current one
  and the status is 'scheduled' (or 'sending': a rerun of the same job after a crash); it becomes
  'sending'.
- 'finish' (ARGV[4]: {"version", "status", ...fields}): the outcome, only for that version.
Returns {1, record JSON} when applied, {0, record JSON or ''} when not (missing, stale, or not in
a state that allows it). Invariant: at most one version of a reminder is live; only a job of that
version sends it, and a cancelled reminder is never sent. ]]
local raw = redis.call('HGET', KEYS[1], ARGV[2])
local rec = nil
if raw then rec = cjson.decode(raw) end
local op = ARGV[1]
local arg = cjson.decode(ARGV[4])
local function save()
  local out = cjson.encode(rec)
  redis.call('HSET', KEYS[1], ARGV[2], out)
  redis.call('ZADD', KEYS[2], 0, ARGV[2])
  return {1, out}
end
if op == 'put' or op == 'update' then
  if op == 'update' and (rec == nil or rec.status == 'cancelled') then return {0, raw or ''} end
  local version = 1
  if rec then version = (tonumber(rec.version) or 0) + 1 else rec = {created_ms = tonumber(ARGV[3])} end
  for k, v in pairs(arg) do rec[k] = v end
  rec.id = ARGV[2]
  rec.version = version
  rec.status = 'scheduled'
  rec.notification = nil
  rec.reason = nil
  rec.updated_ms = tonumber(ARGV[3])
  return save()
end
if rec == nil then return {0, ''} end
if op == 'cancel' then
  if rec.status == 'cancelled' then return {1, raw} end
  if rec.status ~= 'scheduled' then return {0, raw} end
  rec.status = 'cancelled'
  rec.version = (tonumber(rec.version) or 0) + 1
  rec.updated_ms = tonumber(ARGV[3])
  return save()
end
if op == 'claim' then
  if tonumber(rec.version) ~= tonumber(arg) then return {0, raw} end
  if rec.status ~= 'scheduled' and rec.status ~= 'sending' then return {0, raw} end
  rec.status = 'sending'
  return save()
end
if op == 'finish' then
  if tonumber(rec.version) ~= tonumber(arg.version) then return {0, raw} end
  for k, v in pairs(arg) do if k ~= 'version' then rec[k] = v end end
  rec.updated_ms = tonumber(ARGV[3])
  return save()
end
return redis.error_reply('unknown reminder operation ' .. op)
