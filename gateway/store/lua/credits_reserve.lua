--[[ credits_reserve: charge a notification's SMS credits, once, never below zero, topping up first.
KEYS[1] credits hash (balance; auto_enabled, auto_threshold, auto_amount, auto_max_per_day,
auto_day, auto_count; low_armed)   KEYS[2] credit ledger stream   KEYS[3] notification hash
ARGV[1] credits needed (segments)   ARGV[2] notification id   ARGV[3] now (ms)
ARGV[4] ledger length kept (XADD MAXLEN ~: older entries are trimmed)
ARGV[5] the org's local calendar day (YYYY-MM-DD): the window of auto_max_per_day
Returns {code, balance, low}: code 1 charged now, 2 already charged by an earlier run of the same
notification (nothing changes), 0 not enough credits even after every top-up allowed today
(nothing changes); low = 1 when this step is the crossing below the threshold that must tell the
org's admins (credits.low), else 0.
Auto-recharge (before the charge, in this same step): while the balance after this send would be
below the threshold and fewer than auto_max_per_day top-ups happened on this local day, add
auto_amount (one ledger entry `auto_recharge` each). If even the allowed top-ups cannot cover the
send, nothing is topped up and the send is refused.
credits.low: when the balance is (or stays, on a refusal) below the threshold and no top-up can
help (auto-recharge off, or today's cap reached), low is returned once: `low_armed` is cleared and
set again only when the balance is back at or above the threshold (here, or in credits_credit).
Invariants: the balance never goes negative; a notification is charged at most once (the
`charged` field is written in the same atomic step as the debit); at most auto_max_per_day
top-ups per org-local day. ]]
local need = tonumber(ARGV[1])
local balance = tonumber(redis.call('HGET', KEYS[1], 'balance') or '0')
if redis.call('HEXISTS', KEYS[3], 'charged') == 1 then return {2, balance, 0} end
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
    return 0
  end
  local helpless = (not enabled) or amount <= 0 or count + topups >= cap
  if helpless and low_armed then
    redis.call('HSET', KEYS[1], 'low_armed', '0')
    return 1
  end
  return 0
end
if balance + topups * amount < need then
  return {0, balance, low_now(balance)}
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
return {1, balance, low_now(balance)}
