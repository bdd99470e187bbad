-- allocate on a Redis Cluster, step 4 of 4 (service's slot): the link now holds `linked`.
-- ARGV[2] uid, ARGV[3] the pod this router claimed, ARGV[4] the pod the link holds
-- Reply: {won, released, load, capacity} for the linked pod (-1 when unregistered); won 1
-- when the link holds our pod (the claim is confirmed), released 1 when our claim was freed
-- because another writer's link won.
local uid, ours, linked = ARGV[2], ARGV[3], ARGV[4]
local won, released = 0, 0
if linked == ours then
  won = 1
  local held = redis.call('HGET', K_CLAIM, uid)
  if held ~= ours then
    -- The claim went meanwhile (a reconcile after the grace): the link must be counted (I2).
    if held then
      drop_claim(uid, held)
    end
    add_claim(uid, ours)
  end
  redis.call('ZREM', K_PENDING, uid)
elseif drop_claim(uid, ours) then
  released = 1
end
local cap = redis.call('HGET', K_CAP, linked)
local load = redis.call('HGET', K_LOAD, linked)
return {won, released, cap and (tonumber(load) or 0) or -1, tonumber(cap) or -1}
