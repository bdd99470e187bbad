-- allocate on a Redis Cluster, step 3 of 4 (the uid's slot): the link if absent, exactly as
-- setLinkedPodIfAbsent writes it, and whether this call wrote it.
-- KEYS[1] link string key, KEYS[2] link index; ARGV[1] service, ARGV[2] pod, ARGV[3] persist
-- Reply: {pod the link holds, 1 written / 0 existed}
local t1 = redis.call('TYPE', KEYS[1]).ok
local t2 = redis.call('TYPE', KEYS[2]).ok
if (t1 ~= 'string' and t1 ~= 'none') or (t2 ~= 'hash' and t2 ~= 'none') then
  return redis.error_reply('WRONGTYPE link keys hold the wrong kind of value')
end
local existing = redis.call('GET', KEYS[1])
if existing and existing ~= '' then
  return {existing, 0}
end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[3] == '-1' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
else
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return {ARGV[2], 1}
