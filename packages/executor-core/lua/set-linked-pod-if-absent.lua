-- setLinkedPodIfAbsent: link a uid to a pod only when no link exists.
-- KEYS[1] link string key   sf:{<ns>:lk:<uid>}<svc>
-- KEYS[2] link index hash   sf:{<ns>:lk:<uid>}
-- ARGV[1] service name, ARGV[2] pod id (decimal), ARGV[3] persistSeconds (-1 or > 0)
-- Reply: {existing} when a link exists (nothing changes, the TTL is not refreshed),
--        else {pod} after linking.
local t1 = redis.call('TYPE', KEYS[1]).ok
local t2 = redis.call('TYPE', KEYS[2]).ok
if (t1 ~= 'string' and t1 ~= 'none') or (t2 ~= 'hash' and t2 ~= 'none') then
  return redis.error_reply('WRONGTYPE link keys hold the wrong kind of value')
end
local existing = redis.call('GET', KEYS[1])
if existing then
  return {existing}
end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[3] == '-1' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
else
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return {ARGV[2]}
