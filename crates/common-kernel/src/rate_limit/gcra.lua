-- GCRA (generic cell rate algorithm) for one key, in one atomic step.
--
-- KEYS[1]  rate-limit:<tenant>:<client>:<class>; holds the theoretical arrival time (TAT), in
--          microseconds, of the next request that would find the budget full.
-- ARGV[1]  emission interval in microseconds (one over the sustained rate).
-- ARGV[2]  burst: how many requests may arrive back to back.
-- ARGV[3]  optional arrival time in microseconds, for tests that replay a sequence of arrivals;
--          without it the server's TIME is used, so every replica asking this server judges by
--          the same clock.
--
-- Returns {1, 0} when the request is allowed (the new TAT is stored with a TTL after which the
-- key would be equivalent to an absent one, so idle keys expire), or {0, retry_after} when it is
-- refused, retry_after being the microseconds until the same request would be allowed; a refusal
-- writes nothing. Every number stays below 2^53, so Lua's doubles compute exactly what the
-- per-process limiter (rate_limit::Limit::decide) computes in integers.
if redis.replicate_commands then
  redis.replicate_commands()
end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if allow_at > now then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, 0}
