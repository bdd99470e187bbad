-- reconcilePlacement, step 3 (service's slot): act on what the links were seen to hold.
-- ARGV[2] pending grace (ms), ARGV[3] '1' to read the links here (standalone: one server,
-- no window between the look and the act) or '0' (Cluster: use the observations),
-- ARGV[4] link key prefix sf:{<ns>:lk:, ARGV[5] service, then groups of five:
-- kind ('e' expired, 'p' pending, 'c' claim), uid, the claim's pod when listed, the link's
-- value when observed ('' for none), its PTTL when observed.
-- A claim that changed since it was listed is left alone (compare-and-release).
-- Reply: {checked, released_expired, released_reconciled, confirmed}
local now, grace, direct = now_ms(), tonumber(ARGV[2]), ARGV[3] == '1'
local checked, expired, reconciled, confirmed = 0, 0, 0, 0
for i = 6, #ARGV, 5 do
  local kind, uid, expected = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local observed, pttl = ARGV[i + 3], tonumber(ARGV[i + 4])
  if direct then
    local k1 = ARGV[4] .. uid .. '}' .. ARGV[5]
    observed = link_value(k1)
    pttl = redis.call('PTTL', k1)
  end
  if redis.call('HGET', K_CLAIM, uid) == expected then
    if kind == 'p' then
      local since = redis.call('ZSCORE', K_PENDING, uid)
      if since and tonumber(since) <= now - grace then
        checked = checked + 1
        if observed == expected then
          redis.call('ZREM', K_PENDING, uid)
          confirmed = confirmed + 1
        elseif drop_claim(uid, expected) then
          reconciled = reconciled + 1
        end
      end
    elseif not in_flight(uid, now, grace) then
      local due = redis.call('ZSCORE', K_EXP, uid)
      -- An expired claim re-dated since it was listed belongs to a newer link: skip it.
      if kind == 'c' or (due and tonumber(due) <= now) then
        checked = checked + 1
        if observed ~= expected then
          if drop_claim(uid, expected) then
            if kind == 'e' then
              expired = expired + 1
            else
              reconciled = reconciled + 1
            end
          end
        elseif pttl < 0 then
          redis.call('ZREM', K_EXP, uid)
        else
          redis.call('ZADD', K_EXP, now + pttl, uid)
        end
      end
    end
  end
end
return {checked, expired, reconciled, confirmed}
