-- allocate on a Redis Cluster, step 2 of 4 (service's slot): choose and claim, or reuse the
-- uid's claim, and mark it pending until the link is settled.
-- ARGV[2] uid, ARGV[3] persistSeconds, ARGV[4] strategy, ARGV[5] pending grace (ms)
-- Reply: {status, pod, load, capacity, released_reconciled}; status 1 claimed, 2 reused,
-- -1 no capacity (nothing written).
local uid, persist, strategy, grace = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local now = now_ms()
local reconciled = 0
local pod = redis.call('HGET', K_CLAIM, uid)
-- A claim held by an allocation in flight is reused whatever its pod's state: that router
-- links the uid to it.
if pod and not usable(pod, now) and not in_flight(uid, now, grace) then
  drop_claim(uid, pod)
  reconciled = 1
  pod = false
end
local status, load
if pod then
  status = 2
  load = tonumber(redis.call('HGET', K_LOAD, pod)) or 0
else
  pod = choose(strategy, now)
  if not pod then
    return {-1, '-1', -1, -1, reconciled}
  end
  status = 1
  load = add_claim(uid, pod)
end
redis.call('ZADD', K_PENDING, now, uid)
set_expiry(uid, persist, now)
return {status, pod, load, tonumber(redis.call('HGET', K_CAP, pod)) or -1, reconciled}
