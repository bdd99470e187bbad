-- release on a Redis Cluster, step 1 of 2 (the uid's slot): delete the link, as
-- removeLinkedPod does, and say what it held.
-- KEYS[1] link string key, KEYS[2] link index; ARGV[1] service
-- Reply: {the old value, or '' when there was no link}
local t1 = redis.call('TYPE', KEYS[1]).ok
local t2 = redis.call('TYPE', KEYS[2]).ok
if (t1 ~= 'string' and t1 ~= 'none') or (t2 ~= 'hash' and t2 ~= 'none') then
  return redis.error_reply('WRONGTYPE link keys hold the wrong kind of value')
end
local old = redis.call('GET', KEYS[1]) or ''
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return {old}
