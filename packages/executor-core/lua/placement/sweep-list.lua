-- sweepDeadPods, step 1 (service's slot): the next dead pod with claims and up to `batch`
-- of its uids; dead pods with no claims left are unregistered on the way.
-- ARGV[2] batch. Reply: {} when nothing is left, else {pod, uid, uid, ...}.
local now = now_ms()
local dead = redis.call('ZRANGEBYSCORE', K_LEASE, '-inf', now)
for _, pod in ipairs(dead) do
  local uids = redis.call('SRANDMEMBER', UIDS .. pod, tonumber(ARGV[2]))
  if #uids > 0 then
    table.insert(uids, 1, pod)
    return uids
  end
  redis.call('HDEL', K_CAP, pod)
  redis.call('ZREM', K_LEASE, pod)
  redis.call('SREM', K_DRAIN, pod)
  redis.call('HDEL', K_LOAD, pod)
  redis.call('ZREM', K_FREE, member(pod))
end
return {}
