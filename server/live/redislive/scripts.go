package redislive

import "github.com/redis/go-redis/v9"

// The Lua scripts. Each runs atomically on the server; the keys a script computes from stored
// owner ids (index sets) are why a Redis Cluster deployment needs a hash-tagged prefix (see the
// package documentation).

// appendScript gives an event the session's next sequence number and adds it to the history.
//
// KEYS[1] session hash, KEYS[2] history stream.
// ARGV[1] CLI sequence number (0 for none), ARGV[2] event type, ARGV[3] event, ARGV[4] new
// expiry ("" keeps it), ARGV[5] history size, ARGV[6] key TTL (ms).
// Returns the sequence number, 0 for a duplicate, -1 when the session does not exist.
//
// XADD comes before the counters are written: if it fails nothing has changed.
var appendScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'seq', 'cli')
if not cur[1] then return -1 end
local cli = tonumber(ARGV[1])
if cli > 0 and cli <= tonumber(cur[2] or '0') then return 0 end
local seq = tonumber(cur[1]) + 1
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[5], string.format('%d-0', seq), 't', ARGV[2], 'e', ARGV[3])
local f = {'seq', string.format('%d', seq)}
if cli > 0 then f[3] = 'cli'; f[4] = ARGV[1] end
if ARGV[4] ~= '' then f[#f + 1] = 'exp'; f[#f + 1] = ARGV[4] end
redis.call('HSET', KEYS[1], unpack(f))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return seq
`)

// casScript writes a record if nobody changed it since it was read (optimistic concurrency on the
// version field v, and for sessions on seq, which every Append moves), and adds it to its owner's
// index set.
//
// KEYS[1] record hash, KEYS[2] owner's index set, KEYS[3..] other keys of the record (TTL refresh).
// ARGV[1] version read, ARGV[2] seq read ("" for records without one), ARGV[3] TTL (ms),
// ARGV[4] record id, ARGV[5..] field/value pairs to write (with a new version).
// Returns 1 when written, 0 on a conflict, -1 when the record does not exist.
var casScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'v', 'seq')
if not cur[1] then return -1 end
if cur[1] ~= ARGV[1] or (ARGV[2] ~= '' and cur[2] ~= ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
for i = 3, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`)

// setFieldsScript writes fields of a record that exists.
//
// KEYS[1] record hash, KEYS[2..] other keys of the record (TTL refresh).
// ARGV[1] TTL (ms), ARGV[2] a field to delete ("" for none), ARGV[3..] field/value pairs.
// Returns 1, or 0 when the record does not exist.
var setFieldsScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] ~= '' then redis.call('HDEL', KEYS[1], ARGV[2]) end
if #ARGV > 2 then redis.call('HSET', KEYS[1], unpack(ARGV, 3)) end
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return 1
`)

// deleteSessionScript removes a session, its history and its index entries.
//
// KEYS[1] session hash, KEYS[2] history stream, KEYS[3] set of all sessions.
// ARGV[1] session id, ARGV[2] prefix of the user-sessions sets.
// Returns the fields d, seq, cli, exp of the removed session, or nil when there was none.
var deleteSessionScript = redis.NewScript(`
local r = redis.call('HMGET', KEYS[1], 'd', 'seq', 'cli', 'exp', 'u')
if not r[1] then return false end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
if r[5] then redis.call('SREM', ARGV[2] .. r[5], ARGV[1]) end
return {r[1], r[2], r[3], r[4]}
`)

// deleteRunnerScript removes a runner if the connection matches.
//
// KEYS[1] runner hash.
// ARGV[1] connection ("" for any), ARGV[2] runner id, ARGV[3] prefix of the user-runners sets.
// Returns 1 when removed.
var deleteRunnerScript = redis.NewScript(`
local r = redis.call('HMGET', KEYS[1], 'c', 'u')
if not r[2] then return 0 end
if ARGV[1] ~= '' and r[1] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[3] .. r[2], ARGV[2])
return 1
`)

// deleteTerminalScript removes a terminal and its buffered output.
//
// KEYS[1] terminal hash, KEYS[2] output list.
// ARGV[1] terminal id, ARGV[2] prefix of the runner-terminals sets.
// Returns 1 when the terminal existed.
var deleteTerminalScript = redis.NewScript(`
local r = redis.call('HGET', KEYS[1], 'r')
redis.call('DEL', KEYS[2])
if not r then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[2] .. r, ARGV[1])
return 1
`)

// listScript reads the records of an index set, removing the ids whose record is gone (expired)
// or belongs to another owner now, and refreshes the set's TTL when it lists something.
//
// KEYS[1] index set.
// ARGV[1] prefix of the record keys, ARGV[2] owner field ("" for none), ARGV[3] owner,
// ARGV[4] TTL of the set (ms), ARGV[5..] fields to return (the first one is always present).
// Returns id, field values, id, field values, ...
var listScript = redis.NewScript(`
local ids = redis.call('SMEMBERS', KEYS[1])
local fields = {unpack(ARGV, 5)}
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  local r = redis.call('HMGET', key, unpack(fields))
  local ok = r[1] ~= false
  if ok and ARGV[2] ~= '' then ok = redis.call('HGET', key, ARGV[2]) == ARGV[3] end
  if ok then
    out[#out + 1] = id
    for j = 1, #fields do out[#out + 1] = r[j] end
  else
    redis.call('SREM', KEYS[1], id)
  end
end
if #out > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return out
`)

// touchScript refreshes the TTLs of a record, its other keys and its owner's index set.
//
// KEYS[1] record hash, KEYS[2..] other keys of the record.
// ARGV[1] TTL (ms), ARGV[2] owner field, ARGV[3] prefix of the owner index sets.
// Returns 1, or 0 when the record does not exist.
var touchScript = redis.NewScript(`
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
for i = 2, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
local o = redis.call('HGET', KEYS[1], ARGV[2])
if o then redis.call('PEXPIRE', ARGV[3] .. o, ARGV[1]) end
return 1
`)
