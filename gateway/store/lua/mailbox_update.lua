--[[ mailbox_update: replace an API mailbox's record if nobody changed it since it was read.
KEYS[1] the org's API mailboxes hash   KEYS[2] the mailbox's checkpoint hash   KEYS[3] its state hash
ARGV[1] mailbox id   ARGV[2] the record as read   ARGV[3] the new record
ARGV[4] "1" when the mailbox's UID space moved (host, port, username or folder changed): its
checkpoint and state are dropped with the write, as for a new mailbox.
Returns 1 written, 0 no such mailbox (deleted meanwhile: never brought back), -1 the record
changed since it was read (the caller reads it again). ]]
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 0 end
if current ~= ARGV[2] then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] == '1' then redis.call('DEL', KEYS[2], KEYS[3]) end
return 1
