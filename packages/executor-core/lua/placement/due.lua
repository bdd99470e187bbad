-- reconcilePlacement, step 1 (service's slot): claims due for a check.
-- ARGV[2] batch, ARGV[3] pending grace (ms)
-- Reply: {count of expired, uid, pod, uid, pod, ...} listing first the claims whose
-- temporary link should have expired, then the claims pending for longer than the grace.
local now, batch, grace = now_ms(), tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {0}
local expired = redis.call('ZRANGEBYSCORE', K_EXP, '-inf', now, 'LIMIT', 0, batch)
for _, uid in ipairs(expired) do
  out[#out + 1] = uid
  out[#out + 1] = redis.call('HGET', K_CLAIM, uid) or ''
end
out[1] = #expired
local pending = redis.call('ZRANGEBYSCORE', K_PENDING, '-inf', now - grace, 'LIMIT', 0, batch)
for _, uid in ipairs(pending) do
  out[#out + 1] = uid
  out[#out + 1] = redis.call('HGET', K_CLAIM, uid) or ''
end
return out
