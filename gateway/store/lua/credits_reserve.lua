--[[ credits_reserve: charge a notification's SMS credits, once, never below zero, topping up first.
KEYS[1] credits hash (balance; auto_enabled, auto_threshold, auto_amount, auto_max_per_day,
auto_day, auto_count; low_armed, low_seq)   KEYS[2] credit ledger stream   KEYS[3] notification hash
KEYS[4] owed credits.low warnings (hash: crossing id -> JSON {balance, threshold, reason, notification, at})
ARGV[1] credits needed (segments)   ARGV[2] notification id   ARGV[3] now (ms)
ARGV[4] ledger length kept (XADD MAXLEN ~: older entries are trimmed)
ARGV[5] the org's local calendar day (YYYY-MM-DD): the window of auto_max_per_day
Returns {code, balance, crossing, owed}: code 1 charged now, 2 already charged by an earlier run of
the same notification (nothing changes), 0 not enough credits even after every top-up allowed today
(nothing changes); crossing = the id of the crossing below the threshold this step made (it must
tell the org's admins credits.low), else ''; owed = how many warnings are owed (KEYS[4]) after this
step, this crossing's included: the caller delivers them all and clears each once told.
Auto-recharge (before the charge, in this same step): while the balance after this send would be
below the threshold and fewer than auto_max_per_day top-ups happened on this local day, add
auto_amount (one ledger entry `auto_recharge` each). If even the allowed top-ups cannot cover the
send, nothing is topped up and the send is refused.
credits.low: when the balance is (or stays, on a refusal) below the threshold and no top-up can
help (auto-recharge off, or today's cap reached), this is a crossing, once: `low_armed` is cleared
(set again only when the balance is back at or above the threshold, here or in credits_credit) and,
in the same atomic step, the crossing is recorded as owed in KEYS[4] under a new id
('<low_seq>-<notification id>'). A caller that dies before telling the admins thus leaves the
warning owed, and the next caller (any SMS send of the org, or the job's rerun) delivers it.
Invariants: the balance never goes negative; a notification is charged at most once (the
`charged` field is written in the same atomic step as the debit); at most auto_max_per_day
top-ups per org-local day; every crossing is owed until a caller clears it (never lost). ]]
local need = tonumber(ARGV[1])
local balance = tonumber(redis.call('HGET', KEYS[1], 'balance') or '0')
if redis.call('HEXISTS', KEYS[3], 'charged') == 1 then return {2, balance, '', redis.call('HLEN', KEYS[4])} end
local c = redis.call('HMGET', KEYS[1], 'auto_enabled', 'auto_threshold', 'auto_amount', 'auto_max_per_day',
  'auto_day', 'auto_count', 'low_armed')
local enabled = c[1] == '1'
local threshold = tonumber(c[2] or '0')
local amount = tonumber(c[3] or '0')
local cap = tonumber(c[4] or '0')
local count = 0
if c[5] == ARGV[5] then count = tonumber(c[6] or '0') end
local low_armed = c[7] ~= '0'
local topups = 0
if enabled and amount > 0 then
  while balance + topups * amount - need < threshold and count + topups < cap do topups = topups + 1 end
end
local function low_now(after)
  if after >= threshold then
    redis.call('HSET', KEYS[1], 'low_armed', '1')
    return ''
  end
  local helpless = (not enabled) or amount <= 0 or count + topups >= cap
  if not (helpless and low_armed) then return '' end
  redis.call('HSET', KEYS[1], 'low_armed', '0')
  local crossing = redis.call('HINCRBY', KEYS[1], 'low_seq', 1) .. '-' .. ARGV[2]
  local reason = 'auto_recharge_off'
  if enabled then reason = 'auto_recharge_cap' end
  redis.call('HSET', KEYS[4], crossing, cjson.encode({balance = after, threshold = threshold, reason = reason,
    notification = ARGV[2], at = tonumber(ARGV[3])}))
  return crossing
end
if balance + topups * amount < need then
  local crossing = low_now(balance)
  return {0, balance, crossing, redis.call('HLEN', KEYS[4])}
end
for _ = 1, topups do
  balance = redis.call('HINCRBY', KEYS[1], 'balance', amount)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'type', 'auto_recharge', 'amount', amount, 'balance', balance,
    'notification', ARGV[2], 'at', ARGV[3])
end
if topups > 0 then redis.call('HSET', KEYS[1], 'auto_day', ARGV[5], 'auto_count', count + topups) end
balance = redis.call('HINCRBY', KEYS[1], 'balance', -need)
redis.call('HSET', KEYS[3], 'charged', need)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'type', 'charge', 'amount', -need, 'balance', balance,
  'notification', ARGV[2], 'at', ARGV[3])
local crossing = low_now(balance)
return {1, balance, crossing, redis.call('HLEN', KEYS[4])}
