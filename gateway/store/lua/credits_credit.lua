--[[ credits_credit: add credits: a purchase, or the refund of a notification's charge (once).
KEYS[1] credits hash   KEYS[2] credit ledger stream   KEYS[3] notification hash (refunds only)
ARGV[1] 'purchase' or 'refund'   ARGV[2] amount (purchase) or notification id (refund)
ARGV[3] now (ms)   ARGV[4] note (purchase reference, or refund reason)
ARGV[5] ledger length kept (XADD MAXLEN ~: older entries are trimmed)
Returns {1, balance} when credited, {0, balance} for a refund of something never charged or
already refunded. Invariant: a notification is refunded at most once and never more than it
was charged; a balance back at or above the threshold re-arms credits.low (credits_reserve). ]]
local amount
local nid = ''
if ARGV[1] == 'refund' then
  nid = ARGV[2]
  local charged = redis.call('HGET', KEYS[3], 'charged')
  if not charged or redis.call('HSETNX', KEYS[3], 'refunded', ARGV[3]) == 0 then
    return {0, tonumber(redis.call('HGET', KEYS[1], 'balance') or '0')}
  end
  amount = tonumber(charged)
else
  amount = tonumber(ARGV[2])
end
local balance = redis.call('HINCRBY', KEYS[1], 'balance', amount)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'type', ARGV[1], 'amount', amount, 'balance', balance,
  'notification', nid, 'at', ARGV[3], 'note', ARGV[4])
local threshold = tonumber(redis.call('HGET', KEYS[1], 'auto_threshold') or '0')
if balance >= threshold then redis.call('HSET', KEYS[1], 'low_armed', '1') end
return {1, balance}
