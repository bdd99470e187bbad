-- sweepDeadPods, step 3 (service's slot): free the claims of swept uids that are still on
-- the dead pod (a uid placed elsewhere meanwhile keeps its new claim, and one whose
-- allocation is in flight is left to its settle). In bulk: a few commands per batch, not per
-- uid, so a batch of a few hundred stays well within a millisecond or two.
-- ARGV[2] pod, ARGV[3] pending grace (ms), ARGV[4..] uids (distinct). Reply: claims freed.
local pod, grace = ARGV[2], tonumber(ARGV[3])
local uids = {}
for i = 4, #ARGV do
  uids[#uids + 1] = ARGV[i]
end
if #uids == 0 then
  return 0
end
local now = now_ms()
local held = redis.call('HMGET', K_CLAIM, unpack(uids))
local since = redis.call('ZMSCORE', K_PENDING, unpack(uids))
local freed = {}
for i, uid in ipairs(uids) do
  if held[i] == pod and not (since[i] and tonumber(since[i]) > now - grace) then
    freed[#freed + 1] = uid
  end
end
if #freed == 0 then
  return 0
end
redis.call('HDEL', K_CLAIM, unpack(freed))
redis.call('ZREM', K_EXP, unpack(freed))
redis.call('ZREM', K_PENDING, unpack(freed))
redis.call('SREM', UIDS .. pod, unpack(freed))
if redis.call('HINCRBY', K_LOAD, pod, -#freed) <= 0 then
  redis.call('HDEL', K_LOAD, pod)
end
index_pod(pod)
return #freed
