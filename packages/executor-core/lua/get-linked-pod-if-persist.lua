-- getLinkedPodIfPersist: the linked pod when the link is permanent.
-- KEYS[1] link string key   sf:{<ns>:lk:<uid>}<svc>
-- Reply: the pod (bulk string) when KEYS[1] exists with no TTL, else nil.
local value = redis.call('GET', KEYS[1])
if not value then
  return false
end
if redis.call('TTL', KEYS[1]) ~= -1 then
  return false
end
return value
