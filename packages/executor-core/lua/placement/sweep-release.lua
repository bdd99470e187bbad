-- sweepDeadPods, step 3 (service's slot): free the claims of swept uids that are still on
-- the dead pod (a uid placed elsewhere meanwhile keeps its new claim).
-- ARGV[2] pod, ARGV[3] pending grace (ms), ARGV[4..] uids. Reply: claims freed.
local now, grace = now_ms(), tonumber(ARGV[3])
local freed = 0
for i = 4, #ARGV do
  if not in_flight(ARGV[i], now, grace) and drop_claim(ARGV[i], ARGV[2]) then
    freed = freed + 1
  end
end
return freed
