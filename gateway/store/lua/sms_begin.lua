--[[ sms_begin: everything an SMS job does between rendering and the provider call, in one step.
KEYS[1] notification hash   KEYS[2] its status history   KEYS[3] credits hash   KEYS[4] credit ledger
KEYS[5] owed credits.low warnings (credits_reserve's KEYS[4])
ARGV[1] credits needed (segments)   ARGV[2] notification id   ARGV[3] now (ms)
ARGV[4] ledger length kept   ARGV[5] attempt stale after (ms)   ARGV[6] claim token of this run
ARGV[7] rank of 'sending'   ARGV[8] the org's local day (auto-recharge's daily window)
ARGV[9..] field/value pairs stored on the notification first (recipient, text, segments, contact)
Steps, with the rules of the scripts they include (nothing of theirs is restated here):
0. a notification cancelled (DELETE .../notifications/{id}) stops here: returns
{3, balance, 'cancelled', '', '', owed} and nothing changes; 1. store the fields; 2. credits_reserve; if that refuses (not enough credits) stop: returns
{0, balance, '', '', crossing, owed} and nothing else changed but the fields; 3. advance_status to 'sending'
(event '<nid>:sending', idempotent); 4. begin_attempt (no stale attempt seen yet).
Returns {reserve code (1 charged, 2 already charged), balance, verdict, value, crossing, owed} where
verdict and value are begin_attempt's ('go', 'done' + sid, 'busy' + age, 'stale' + attempt_ms) and
crossing and owed are credits_reserve's (owed > 0: credits.low warnings to deliver, KEYS[5]).
Invariants: those of credits_reserve (never negative, charged once, auto-recharge once per
crossing), advance_status (rank only grows) and begin_attempt (one provider call in flight). ]]
--#include credits_reserve
--#include advance_status
--#include begin_attempt
if redis.call('HGET', KEYS[1], 'status') == 'cancelled' then
  return {3, tonumber(redis.call('HGET', KEYS[3], 'balance') or '0'), 'cancelled', '', '', redis.call('HLEN', KEYS[5])}
end
if #ARGV >= 9 then redis.call('HSET', KEYS[1], unpack(ARGV, 9)) end
local reserved = credits_reserve({KEYS[3], KEYS[4], KEYS[1], KEYS[5]}, {ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[8]})
if reserved[1] == 0 then return {0, reserved[2], '', '', reserved[3], reserved[4]} end
advance_status({KEYS[1], KEYS[2]}, {'sending', ARGV[7], ARGV[2] .. ':sending', ARGV[3], ''})
local claim = begin_attempt({KEYS[1]}, {ARGV[3], ARGV[5], ARGV[6], ''})
return {reserved[1], reserved[2], claim[1], claim[2], reserved[3], reserved[4]}
