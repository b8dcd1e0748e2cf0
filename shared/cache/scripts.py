"""The Redis side of the catalog cache: key layout and the two Lua scripts (docs/cache.md).

Key layout (P = REDIS_KEY_PREFIX):
  P v1:<parts>        value: "<stamp>|<bytes>", PX ttl; <stamp> = the key's tag generations
  P tag:<tag>         generation of a tag: a random token, replaced by invalidate(); no TTL
  P lock:v1:<parts>   single-flight lock: SET NX PX cache_lock_ttl_ms, value = owner token
A value is served only while its stamp equals its tags' current generations, so invalidating a
tag is one write however many keys carry it, and a load that read the generations before an
invalidation can neither store (the store script re-checks) nor be served (the stamp differs).
A hit is one plain MGET (shared.cache.store); the scripts make lock-on-miss and check-and-store atomic.
"""

from __future__ import annotations

from collections.abc import Sequence

LOCK_TAKEN, LOCK_HELD, LOCK_FREE = 1, 0, -1

# KEYS: value, lock, tag generations…  ARGV: lock token ('' = only look), lock ttl ms, seed.
# Returns {1, bytes} on a hit, else {0, stamp, LOCK_*}. A missing generation is created from the
# seed (unique per call), so an evicted generation can never make an old stamp valid again.
READ_LUA = """
local gens = {}
for i = 3, #KEYS do
  local g = redis.call('GET', KEYS[i])
  if not g then g = ARGV[3] .. ':' .. i; redis.call('SET', KEYS[i], g) end
  gens[#gens + 1] = g
end
local stamp = table.concat(gens, ',') .. '|'
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #stamp) == stamp then return {1, string.sub(v, #stamp + 1)} end
if ARGV[1] == '' then
  return {0, stamp, redis.call('EXISTS', KEYS[2]) == 1 and 0 or -1}
end
return {0, stamp, redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0}
"""

# KEYS: value, lock, tag generations…  ARGV: stamp read before load, lock token, ttl ms, [value].
# Releases the lock if this caller owns it; stores only if no tag was invalidated meanwhile.
STORE_LUA = """
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
if #ARGV < 4 then return 0 end
local gens = {}
for i = 3, #KEYS do
  local g = redis.call('GET', KEYS[i])
  if not g then return 0 end
  gens[#gens + 1] = g
end
if table.concat(gens, ',') .. '|' ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. ARGV[4], 'PX', ARGV[3])
return 1
"""


def tag_key(prefix: str, tag: str) -> str:
    return f"{prefix}tag:{tag}"


def cache_keys(prefix: str, value_key: str, tags: Sequence[str]) -> list[str]:
    """[value, lock, generation per tag]: the KEYS both scripts take."""
    bare = value_key[len(prefix) :] if value_key.startswith(prefix) else value_key
    return [value_key, f"{prefix}lock:{bare}", *(tag_key(prefix, tag) for tag in tags)]
