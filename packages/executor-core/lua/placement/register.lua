-- registerPod: a pod's capacity and a new lease end (now + ttl), the heartbeat.
-- ARGV[2] pod id, ARGV[3] capacity, ARGV[4] ttlSeconds
redis.call('HSET', K_CAP, ARGV[2], ARGV[3])
redis.call('ZADD', K_LEASE, now_ms() + tonumber(ARGV[4]) * 1000, ARGV[2])
index_pod(ARGV[2])
return 1
