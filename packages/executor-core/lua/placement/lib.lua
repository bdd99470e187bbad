-- Placement: what every placement script shares (docs/placement.md). Prepended to each
-- script of this folder when it is loaded, so each script stays one EVAL.
-- KEYS[1] cap (hash pod -> capacity)      KEYS[5] claim (hash uid -> pod)
-- KEYS[2] lease (zset pod, lease end ms)  KEYS[6] exp (zset uid, expiry ms)
-- KEYS[3] drain (set of pods)             KEYS[7] pending (zset uid, claim time ms)
-- KEYS[4] load (hash pod -> claims)       KEYS[8] free (zset: the pods that may take a
--         placement, member the pod id zero-padded to 16 digits, score load / capacity)
-- ARGV[1] the prefix of the per-pod uid sets, `sf:{<ns>:pl:<svc>}uids:`: the same hash tag,
--         so the same slot as the declared keys.
-- Every key above shares the service's hash tag: one slot, one node, and the scripts of a
-- service run one at a time, which is what makes a claim below capacity exact (I1).
local K_CAP, K_LEASE, K_DRAIN, K_LOAD = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_CLAIM, K_EXP, K_PENDING, K_FREE = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local UIDS = ARGV[1]

-- Redis server time in ms: one clock for every router.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A pod takes placements: registered, lease ahead of now, not draining. A pod has a lease
-- exactly while it is registered (register.lua writes both, sweep-list.lua deletes both).
local function usable(pod, now)
  local lease = redis.call('ZSCORE', K_LEASE, pod)
  return lease ~= false and tonumber(lease) > now and redis.call('SISMEMBER', K_DRAIN, pod) == 0
end

-- Whether the uid's claim is held by an allocation in flight (claimed, link not settled,
-- within the grace): nothing but its own settle or a reconcile after the grace may free it.
local function in_flight(uid, now, grace)
  local since = redis.call('ZSCORE', K_PENDING, uid)
  return since ~= false and tonumber(since) > now - grace
end

-- The member of a pod in the free index: its id padded to 16 digits, so that the index's
-- order among equal scores (bytes) is the order of the ids.
local function member(pod)
  return string.format('%016d', tonumber(pod))
end

-- Keeps the pod's entry in the free index in step with its load, capacity and drain flag:
-- present, scored load / capacity, exactly while it is registered, not draining and below
-- capacity. (A dead pod may stay in it: `choose` drops it when it meets it, and the next
-- heartbeat puts it back.)
local function index_pod(pod)
  local cap = tonumber(redis.call('HGET', K_CAP, pod))
  local load = tonumber(redis.call('HGET', K_LOAD, pod)) or 0
  if cap and load < cap and redis.call('SISMEMBER', K_DRAIN, pod) == 0 then
    redis.call('ZADD', K_FREE, load / cap, member(pod))
  else
    redis.call('ZREM', K_FREE, member(pod))
  end
end

-- The pod `strategy` picks, or nil: from the free index, so the cost does not grow with the
-- number of pods. least-loaded: the lowest load / capacity, then the lowest id. packed: the
-- highest load / capacity below 1, then the lowest id. A candidate is checked against the
-- records before it is returned (alive, not draining, below capacity: I1 rests on this check,
-- not on the index); one that fails is dropped from the index and the next is taken. When
-- none is left the dropped entries are put back as they were: a refusal writes nothing.
local function choose(strategy, now)
  local dropped = {}
  while true do
    local pick
    if strategy == 'packed' then
      local top = redis.call('ZREVRANGE', K_FREE, 0, 0, 'WITHSCORES')
      if #top > 0 then
        pick = redis.call('ZRANGEBYSCORE', K_FREE, top[2], top[2], 'LIMIT', 0, 1)[1]
      end
    else
      pick = redis.call('ZRANGE', K_FREE, 0, 0)[1]
    end
    if not pick then
      for i = 1, #dropped, 2 do
        redis.call('ZADD', K_FREE, dropped[i + 1], dropped[i])
      end
      return nil
    end
    local pod = tostring(tonumber(pick))
    local cap = tonumber(redis.call('HGET', K_CAP, pod))
    local load = tonumber(redis.call('HGET', K_LOAD, pod)) or 0
    if cap and load < cap and usable(pod, now) then
      return pod
    end
    dropped[#dropped + 1] = pick
    dropped[#dropped + 1] = redis.call('ZSCORE', K_FREE, pick)
    redis.call('ZREM', K_FREE, pick)
  end
end

-- One claim: the three records change together. Returns the pod's new load.
local function add_claim(uid, pod)
  redis.call('HSET', K_CLAIM, uid, pod)
  redis.call('SADD', UIDS .. pod, uid)
  local load = redis.call('HINCRBY', K_LOAD, pod, 1)
  index_pod(pod)
  return load
end

-- Frees the uid's claim when it is on `pod` (on any pod when pod is nil). True if freed.
local function drop_claim(uid, pod)
  local held = redis.call('HGET', K_CLAIM, uid)
  if not held or (pod and held ~= pod) then
    return false
  end
  redis.call('HDEL', K_CLAIM, uid)
  redis.call('ZREM', K_EXP, uid)
  redis.call('ZREM', K_PENDING, uid)
  redis.call('SREM', UIDS .. held, uid)
  if redis.call('HINCRBY', K_LOAD, held, -1) <= 0 then
    redis.call('HDEL', K_LOAD, held)
  end
  index_pod(held)
  return true
end

-- Where a temporary link's claim is due for a check (exp), or none for a permanent link.
local function set_expiry(uid, persist, now)
  if persist == '-1' then
    redis.call('ZREM', K_EXP, uid)
  else
    redis.call('ZADD', K_EXP, now + tonumber(persist) * 1000, uid)
  end
end

-- A link key's type is checked before a write, as the link scripts do.
local function assert_link_types(k1, k2)
  local t1 = redis.call('TYPE', k1).ok
  local t2 = redis.call('TYPE', k2).ok
  if (t1 ~= 'string' and t1 ~= 'none') or (t2 ~= 'hash' and t2 ~= 'none') then
    return redis.error_reply('WRONGTYPE link keys hold the wrong kind of value')
  end
  return nil
end

-- A link value as a pod to compare with a claim ('' when absent or not a string).
local function link_value(k1)
  if redis.call('TYPE', k1).ok ~= 'string' then
    return ''
  end
  return redis.call('GET', k1) or ''
end
