--[[ email_begin: everything an email job does between rendering and SMTP, in one step.
KEYS[1] usage hash of the org's local day   KEYS[2] notification hash   KEYS[3] its status history
KEYS[4] the Message-ID index key (read only when ARGV[9] is not '')
KEYS[5] the org's suppression hash (address -> JSON)   KEYS[6] the org's contacts hash
ARGV[1] bucket ('individual' or 'mass')   ARGV[2] cap for that bucket   ARGV[3] TTL of KEYS[1]
ARGV[4] the local day   ARGV[5] now (ms)   ARGV[6] rank of 'sending'   ARGV[7] event id
ARGV[8] retention (seconds) of the Message-ID index   ARGV[9] notification id to index under
KEYS[4], or '' when the Message-ID is already recorded   ARGV[10] the recipient address (lower
case)   ARGV[11] the recipient contact id ('' for none)   ARGV[12] '1' for a marketing send
(mass|auto|scheduled|macro)   ARGV[13..] field/value pairs stored on the notification with the
Message-ID (message_id, recipient, contact, user, subject)
Steps: 0. consent, only before the notification is first counted (a rerun after SMTP took the
mail must finish it even though a hard bounce has suppressed the address since): a suppressed
address → {4, 0}; a marketing send to a contact whose `marketing` is not true → {5, 0}; nothing
changes and nothing is counted; 1. email_reserve (its rules: counted once, never over the cap);
if the cap is reached stop: returns {0, used} and nothing changed; 2. when ARGV[9] is set, store
the fields and the Message-ID index; 3. advance_status to 'sending' (idempotent).
Returns email_reserve's answer: {1, used} counted now, {2, used} counted by an earlier run;
{3, 0} when the notification was cancelled (DELETE .../notifications/{id}): nothing changes;
{4, 0} suppressed, {5, 0} not_marketing. One step, so an unsubscribe or a suppression that lands
while a job runs is either seen or comes after the mail was counted — never half of each. ]]
--#include email_reserve
--#include advance_status
if redis.call('HGET', KEYS[2], 'status') == 'cancelled' then return {3, 0} end
if redis.call('HEXISTS', KEYS[2], 'counted_day') == 0 then
  if redis.call('HEXISTS', KEYS[5], ARGV[10]) == 1 then return {4, 0} end
  if ARGV[12] == '1' and ARGV[11] ~= '' then
    local stored = redis.call('HGET', KEYS[6], ARGV[11])
    if stored then
      local ok, contact = pcall(cjson.decode, stored)
      if ok and type(contact) == 'table' and contact['marketing'] ~= true then return {5, 0} end
    end
  end
end
local counted = email_reserve({KEYS[1], KEYS[2]}, {ARGV[1], ARGV[2], ARGV[3], ARGV[4]})
if counted[1] == 0 then return counted end
if ARGV[9] ~= '' then
  if #ARGV >= 13 then redis.call('HSET', KEYS[2], unpack(ARGV, 13)) end
  redis.call('SET', KEYS[4], ARGV[9], 'EX', tonumber(ARGV[8]))
end
advance_status({KEYS[2], KEYS[3]}, {'sending', ARGV[6], ARGV[7], ARGV[5], ''})
return counted
