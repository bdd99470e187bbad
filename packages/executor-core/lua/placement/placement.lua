-- placement(): every registered pod with its capacity, load, lease end and drain flag.
-- Reply: {now, pod, capacity, load, lease end (-1 when none), draining 0/1, pod, ...}
local out = {now_ms()}
local caps = redis.call('HGETALL', K_CAP)
for i = 1, #caps, 2 do
  local pod = caps[i]
  local lease = redis.call('ZSCORE', K_LEASE, pod)
  out[#out + 1] = pod
  out[#out + 1] = tonumber(caps[i + 1]) or 0
  out[#out + 1] = tonumber(redis.call('HGET', K_LOAD, pod)) or 0
  out[#out + 1] = lease and tonumber(lease) or -1
  out[#out + 1] = redis.call('SISMEMBER', K_DRAIN, pod)
end
return out
