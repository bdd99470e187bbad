-- removeLinkedPod: delete a link and its index entry, always. (The Java script then set an
-- expiry on the key it had just deleted, which has no effect; keepSeconds is not sent.)
-- KEYS[1] link string key   sf:{<ns>:lk:<uid>}<svc>
-- KEYS[2] link index hash   sf:{<ns>:lk:<uid>}
-- ARGV[1] service name
-- Reply: 1 when KEYS[1] existed, else 0.
local t1 = redis.call('TYPE', KEYS[1]).ok
local t2 = redis.call('TYPE', KEYS[2]).ok
if (t1 ~= 'string' and t1 ~= 'none') or (t2 ~= 'hash' and t2 ~= 'none') then
  return redis.error_reply('WRONGTYPE link keys hold the wrong kind of value')
end
local existed = redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return existed
