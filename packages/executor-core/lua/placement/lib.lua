-- Placement: what every placement script shares (docs/placement.md). Prepended to each
-- script of this folder when it is loaded, so each script stays one EVAL.
-- KEYS[1] cap (hash pod -> capacity)      KEYS[5] claim (hash uid -> pod)
-- KEYS[2] lease (zset pod, lease end ms)  KEYS[6] exp (zset uid, expiry ms)
-- KEYS[3] drain (set of pods)             KEYS[7] pending (zset uid, claim time ms)
-- KEYS[4] load (hash pod -> claims)
-- ARGV[1] the prefix of the per-pod uid sets, `sf:{<ns>:pl:<svc>}uids:`: the same hash tag,
--         so the same slot as the declared keys.
-- Every key above shares the service's hash tag: one slot, one node, and the scripts of a
-- service run one at a time, which is what makes a claim below capacity exact (I1).
local K_CAP, K_LEASE, K_DRAIN, K_LOAD = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_CLAIM, K_EXP, K_PENDING = KEYS[5], KEYS[6], KEYS[7]
local UIDS = ARGV[1]

-- Redis server time in ms: one clock for every router.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A pod takes placements: registered, lease ahead of now, not draining.
local function usable(pod, now)
  local lease = redis.call('ZSCORE', K_LEASE, pod)
  return lease ~= false and tonumber(lease) > now and redis.call('SISMEMBER', K_DRAIN, pod) == 0
    and redis.call('HEXISTS', K_CAP, pod) == 1
end

-- Whether the uid's claim is held by an allocation in flight (claimed, link not settled,
-- within the grace): nothing but its own settle or a reconcile after the grace may free it.
local function in_flight(uid, now, grace)
  local since = redis.call('ZSCORE', K_PENDING, uid)
  return since ~= false and tonumber(since) > now - grace
end

-- The pod `strategy` picks among the live, non-draining pods below capacity, or nil.
-- least-loaded: lowest load/capacity, then lower load, then lower id. packed: highest
-- load/capacity below 1, then lower id. Ratios compared as cross products (exact).
local function choose(strategy, now)
  local live = redis.call('ZRANGEBYSCORE', K_LEASE, '(' .. now, '+inf')
  if #live == 0 then
    return nil
  end
  local caps = redis.call('HMGET', K_CAP, unpack(live))
  local loads = redis.call('HMGET', K_LOAD, unpack(live))
  local best, best_load, best_cap, best_id
  for i, pod in ipairs(live) do
    local cap = tonumber(caps[i])
    local load = tonumber(loads[i]) or 0
    if cap and load < cap and redis.call('SISMEMBER', K_DRAIN, pod) == 0 then
      local id = tonumber(pod)
      local better
      if not best then
        better = true
      else
        local lhs, rhs = load * best_cap, best_load * cap
        if strategy == 'packed' then
          better = lhs > rhs or (lhs == rhs and id < best_id)
        else
          better = lhs < rhs or (lhs == rhs and (load < best_load or (load == best_load and id < best_id)))
        end
      end
      if better then
        best, best_load, best_cap, best_id = pod, load, cap, id
      end
    end
  end
  return best
end

-- One claim: the three records change together. Returns the pod's new load.
local function add_claim(uid, pod)
  redis.call('HSET', K_CLAIM, uid, pod)
  redis.call('SADD', UIDS .. pod, uid)
  return redis.call('HINCRBY', K_LOAD, pod, 1)
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
