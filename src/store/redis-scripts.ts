/**
 * The Lua scripts of the Redis store (docs/state-store.md "Key layout"). Each runs atomically in
 * Redis, so concurrent gateways never read-modify-write: ioredis sends them with EVALSHA and
 * falls back to EVAL once after a restart emptied Redis's script cache. Times come from Redis's
 * own clock (TIME), so the instances' clocks never need to agree; what leaves a script is a
 * duration, which each instance adds to its own clock.
 */

/**
 * Counts one request in a fixed window. KEYS[1] the counter; ARGV[1] the window in ms.
 * Returns {count, ms until the window ends}. The first request of a window sets the expiry; a
 * counter found without one (it cannot happen, but a lost PEXPIRE must not count forever) gets it.
 */
export const RATE_HIT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`

/**
 * Records a revocation once, within the bounds of docs/replay-and-revocation.md.
 * KEYS[1] the revocation; KEYS[2] the index of all revocations; KEYS[3] the issuer's index
 * (both sorted sets: member "issuer jti", score its expiry in ms on Redis's clock).
 * ARGV[1] the member; ARGV[2] its lifetime in ms; ARGV[3] max_entries; ARGV[4] max_per_issuer;
 * ARGV[5] the channel every gateway listens on.
 * Returns {'added'}, {'seen'}, or {'group' | 'store', ms until the soonest entry under that
 * bound expires}. Expired index members are dropped first; every key keeps a TTL at least as
 * long as its longest-lived member, so nothing outlives what it holds.
 */
export const REVOKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 1 then return {'seen'} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local function soonest(key)
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return tonumber(first[2]) - now
end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then return {'group', soonest(KEYS[3])} end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return {'store', soonest(KEYS[2])} end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], '1', 'PX', ttl)
for i = 2, 3 do
  redis.call('ZADD', KEYS[i], now + ttl, ARGV[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
redis.call('PUBLISH', ARGV[5], ttl .. ' ' .. ARGV[1])
return {'added'}
`

/**
 * Every live revocation, for an instance that starts or reconnects. KEYS[1] the index of all.
 * Returns {member, ms left, member, ms left, ...}.
 */
export const REVOCATIONS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 2, #all, 2 do all[i] = tonumber(all[i]) - now end
return all
`
