-- release on a standalone Redis: delete the link and free the uid's claim in one step.
-- KEYS[9] link string key, KEYS[10] link index; ARGV[2] uid, ARGV[3] service
-- Reply: {old link value or '', freed 1/0}
local wrong = assert_link_types(KEYS[9], KEYS[10])
if wrong then
  return wrong
end
local old = redis.call('GET', KEYS[9]) or ''
redis.call('DEL', KEYS[9])
redis.call('HDEL', KEYS[10], ARGV[3])
return {old, drop_claim(ARGV[2], nil) and 1 or 0}
