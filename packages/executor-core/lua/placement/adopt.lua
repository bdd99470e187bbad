-- reconcilePlacement --full, last step (service's slot): count links that no claim covers.
-- ARGV[2..] groups of three: uid, pod, the link's PTTL (-1 permanent).
-- A uid with a claim is skipped, and so is a link to a pod that is not registered.
-- Reply: links adopted.
local now = now_ms()
local adopted = 0
for i = 2, #ARGV, 3 do
  local uid, pod, pttl = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if redis.call('HEXISTS', K_CLAIM, uid) == 0 and redis.call('HEXISTS', K_CAP, pod) == 1 then
    add_claim(uid, pod)
    if pttl >= 0 then
      redis.call('ZADD', K_EXP, now + pttl, uid)
    end
    adopted = adopted + 1
  end
end
return adopted
