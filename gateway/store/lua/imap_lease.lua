--[[ imap_lease: renew or release the lease of one IMAP mailbox, only by its holder.
KEYS[1] lease key (string: holder token)
ARGV[1] holder token   ARGV[2] "renew" | "release"   ARGV[3] lease length (ms, for renew)
Returns 1 when the caller held the lease (renewed / released), 0 when someone else holds it or it
expired. Acquiring is a plain SET NX PX. Invariant: only the holder moves or drops the lease, so
two processes never both believe they listen to one mailbox for longer than one lease length. ]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == 'release' then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
end
return 1
