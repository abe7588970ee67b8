--[[ credits_reserve: charge a notification's SMS credits, once, never below zero.
KEYS[1] credits hash (balance, auto_enabled, auto_threshold, auto_amount, auto_armed)
KEYS[2] credit ledger stream   KEYS[3] notification hash
ARGV[1] credits needed (segments)   ARGV[2] notification id   ARGV[3] now (ms)
ARGV[4] ledger length kept (XADD MAXLEN ~: older entries are trimmed)
Returns {1, balance} charged now, {2, balance} already charged by an earlier run of the same
notification (nothing changes), {0, balance} not enough credits (nothing changes).
Invariants: the balance never goes negative; a notification is charged at most once (the
`charged` field is written in the same atomic step as the debit); auto-recharge adds its amount
once per crossing of the threshold: it is armed while the balance is at or above the threshold
and disarmed when it fires and the balance stays below. ]]
local need = tonumber(ARGV[1])
local balance = tonumber(redis.call('HGET', KEYS[1], 'balance') or '0')
if redis.call('HEXISTS', KEYS[3], 'charged') == 1 then return {2, balance} end
if balance < need then return {0, balance} end
balance = redis.call('HINCRBY', KEYS[1], 'balance', -need)
redis.call('HSET', KEYS[3], 'charged', need)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'type', 'charge', 'amount', -need, 'balance', balance,
  'notification', ARGV[2], 'at', ARGV[3])
if redis.call('HGET', KEYS[1], 'auto_enabled') == '1' then
  local threshold = tonumber(redis.call('HGET', KEYS[1], 'auto_threshold') or '0')
  local armed = redis.call('HGET', KEYS[1], 'auto_armed') ~= '0'
  if balance < threshold and armed then
    local amount = tonumber(redis.call('HGET', KEYS[1], 'auto_amount') or '0')
    balance = redis.call('HINCRBY', KEYS[1], 'balance', amount)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'type', 'auto_recharge', 'amount', amount, 'balance', balance,
      'notification', ARGV[2], 'at', ARGV[3])
  end
  if balance >= threshold then
    redis.call('HSET', KEYS[1], 'auto_armed', '1')
  else
    redis.call('HSET', KEYS[1], 'auto_armed', '0')
  end
end
return {1, balance}
