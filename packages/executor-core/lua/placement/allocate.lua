-- allocate on a standalone Redis: link check, choice, claim and link in one atomic step.
-- KEYS[9] link string key sf:{<ns>:lk:<uid>}<svc>, KEYS[10] link index sf:{<ns>:lk:<uid>}
-- ARGV[2] uid, ARGV[3] service, ARGV[4] persistSeconds, ARGV[5] strategy,
-- ARGV[6] the namespace's link key prefix sf:{<ns>:lk:, ARGV[7] batch (claims of expired
-- links checked before answering "no capacity")
-- Reply: {status, pod, load, capacity, released_reconciled, released_expired}; status 1
-- created, 0 existing link (nothing written), -1 no capacity (nothing but expired claims
-- freed). load and capacity are -1 for an unregistered pod.
-- Only on a standalone Redis: the link keys are in another slot than the placement keys.
local uid, persist, strategy = ARGV[2], ARGV[4], ARGV[5]
local wrong = assert_link_types(KEYS[9], KEYS[10])
if wrong then
  return wrong
end
local existing = redis.call('GET', KEYS[9])
if existing and existing ~= '' then
  local cap = redis.call('HGET', K_CAP, existing)
  local load = redis.call('HGET', K_LOAD, existing)
  return {0, existing, cap and (tonumber(load) or 0) or -1, tonumber(cap) or -1, 0, 0}
end
local now = now_ms()
local reconciled, expired = 0, 0
-- A claim left by an earlier link of this uid is reused while its pod takes placements.
local pod = redis.call('HGET', K_CLAIM, uid)
if pod and not usable(pod, now) then
  drop_claim(uid, pod)
  reconciled = 1
  pod = false
end
local load
if pod then
  load = tonumber(redis.call('HGET', K_LOAD, pod)) or 0
else
  pod = choose(strategy, now)
  if not pod then
    -- Claims whose temporary link ran out free their capacity before the answer is "full".
    local due = redis.call('ZRANGEBYSCORE', K_EXP, '-inf', now, 'LIMIT', 0, tonumber(ARGV[7]))
    for _, other in ipairs(due) do
      local held = redis.call('HGET', K_CLAIM, other)
      local k1 = ARGV[6] .. other .. '}' .. ARGV[3]
      local value = link_value(k1)
      if not held or value ~= held then
        if drop_claim(other, nil) then
          expired = expired + 1
        end
      else
        local pttl = redis.call('PTTL', k1)
        if pttl < 0 then
          redis.call('ZREM', K_EXP, other)
        else
          redis.call('ZADD', K_EXP, now + pttl, other)
        end
      end
    end
    pod = choose(strategy, now)
  end
  if not pod then
    return {-1, '-1', -1, -1, reconciled, expired}
  end
  load = add_claim(uid, pod)
end
set_expiry(uid, persist, now)
redis.call('SET', KEYS[9], pod)
if persist == '-1' then
  redis.call('HSET', KEYS[10], ARGV[3], pod)
else
  redis.call('EXPIRE', KEYS[9], persist)
  redis.call('HDEL', KEYS[10], ARGV[3])
end
return {1, pod, load, tonumber(redis.call('HGET', K_CAP, pod)), reconciled, expired}
