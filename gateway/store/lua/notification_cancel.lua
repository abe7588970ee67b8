--[[ notification_cancel: cancel a send that has not started.
KEYS[1] notification hash   KEYS[2] its status history
ARGV[1] now (ms)   ARGV[2] rank of 'cancelled'
Returns {1, 'cancelled'} cancelled now (or it already was), {0, status} when it is sending or
done (not cancellable), {-1, ''} when it does not exist.
Invariant: only a 'queued' or 'scheduled' notification is cancelled, in one step; the send job
(sms_begin / email_begin) reads the status in its own atomic step and does nothing once it is
'cancelled', so a send is either cancelled (nothing charged or counted) or proceeds, never both.
A cancelled member of a segment send counts in the send's `done` in the same step (fanout_done). ]]
--#include fanout_done
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {-1, ''} end
if status == 'cancelled' then return {1, status} end
if status ~= 'queued' and status ~= 'scheduled' then return {0, status} end
local before = tonumber(redis.call('HGET', KEYS[1], 'rank') or '0')
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'rank', ARGV[2], 'event', 'cancelled', 'updated_ms', ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[1] .. ' cancelled')
fanout_done({KEYS[1]}, {before})
return {1, 'cancelled'}
