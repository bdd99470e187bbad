-- release on a Redis Cluster, step 2 of 2 (service's slot): the link is gone; free the
-- uid's claim unless an allocation of the uid is in flight (its settle decides).
-- ARGV[2] uid, ARGV[3] pending grace (ms). Reply: 1 freed, 0 not.
if in_flight(ARGV[2], now_ms(), tonumber(ARGV[3])) then
  return 0
end
return drop_claim(ARGV[2], nil) and 1 or 0
