--[[ imap_lease: renew, release or take over the lease of one IMAP mailbox.
KEYS[1] lease key (string: holder token)
ARGV[1] caller's token   ARGV[2] "renew" | "release" | "take"   ARGV[3] lease length (ms, renew/take)
ARGV[4] ("take" only) the token of the holder the caller found dead (its heartbeat key is gone)
renew/release: 1 when the caller held the lease (renewed / released), 0 when someone else holds it
or it expired. take: 1 when the lease was still held by ARGV[4] and is now the caller's, 0 otherwise.
Acquiring a free lease is a plain SET NX PX. Invariant: only the holder moves or drops the lease,
or a caller that proved the holder dead (tokens are unique per process start, so a dead holder
never comes back), so two live processes never both believe they listen to one mailbox for
longer than one lease length; the checkpoint script refuses any writer that is not the holder. ]]
local current = redis.call('GET', KEYS[1])
if ARGV[2] == 'take' then
  if current ~= ARGV[4] then return 0 end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[3]))
  return 1
end
if current ~= ARGV[1] then return 0 end
if ARGV[2] == 'release' then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
end
return 1
