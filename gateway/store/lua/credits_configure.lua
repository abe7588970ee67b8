--[[ credits_configure: set auto-recharge, and top up at once when it is enabled below its threshold.
KEYS[1] credits hash   KEYS[2] credit ledger stream
ARGV[1] enabled ('1'/'0')   ARGV[2] threshold   ARGV[3] amount   ARGV[4] max top-ups per org-local day
ARGV[5] now (ms)   ARGV[6] ledger length kept   ARGV[7] the org's local calendar day (YYYY-MM-DD)
Returns {balance, top-ups made now}.
Enabling it while the balance is below the threshold adds the amount (one ledger entry
`auto_recharge` each, note 'enabled') until the balance is at or above the threshold, within the
day's cap (the same count credits_reserve uses). A balance at or above the threshold re-arms
credits.low. ]]
local enabled = ARGV[1] == '1'
local threshold = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'auto_enabled', ARGV[1], 'auto_threshold', threshold, 'auto_amount', amount,
  'auto_max_per_day', cap)
local balance = tonumber(redis.call('HGET', KEYS[1], 'balance') or '0')
local count = 0
if redis.call('HGET', KEYS[1], 'auto_day') == ARGV[7] then
  count = tonumber(redis.call('HGET', KEYS[1], 'auto_count') or '0')
end
local made = 0
if enabled and amount > 0 then
  while balance < threshold and count + made < cap do
    balance = redis.call('HINCRBY', KEYS[1], 'balance', amount)
    made = made + 1
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'type', 'auto_recharge', 'amount', amount,
      'balance', balance, 'notification', '', 'at', ARGV[5], 'note', 'enabled')
  end
  if made > 0 then redis.call('HSET', KEYS[1], 'auto_day', ARGV[7], 'auto_count', count + made) end
end
if balance >= threshold then redis.call('HSET', KEYS[1], 'low_armed', '1') end
return {balance, made}
