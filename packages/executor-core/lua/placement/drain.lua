-- drainPod / undrainPod. ARGV[2] pod id, ARGV[3] '1' drain, '0' undrain.
if ARGV[3] == '1' then
  redis.call('SADD', K_DRAIN, ARGV[2])
else
  redis.call('SREM', K_DRAIN, ARGV[2])
end
index_pod(ARGV[2])
return 1
