-- removeLinkedPodWithId: delete a link only when it holds exactly the given pod.
-- KEYS[1] link string key   sf:{<ns>:lk:<uid>}<svc>
-- KEYS[2] link index hash   sf:{<ns>:lk:<uid>}
-- ARGV[1] service name, ARGV[2] pod id (decimal, compared as a string)
-- Reply: 1 when removed, else 0 (nothing changes).
local t1 = redis.call('TYPE', KEYS[1]).ok
local t2 = redis.call('TYPE', KEYS[2]).ok
if (t1 ~= 'string' and t1 ~= 'none') or (t2 ~= 'hash' and t2 ~= 'none') then
  return redis.error_reply('WRONGTYPE link keys hold the wrong kind of value')
end
if redis.call('GET', KEYS[1]) ~= ARGV[2] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
