package types

// Patched by pizzapi (see third_party/socket.io-v3/PATCH.md): a set of at most smallSet keys
// keeps them in a slice, a larger one in a map, where upstream always uses a map. The adapter
// keeps two sets per socket that hold one key each (the socket's own room, and the rooms of the
// socket), and a map of one key costs about 200 bytes. The behaviour is unchanged.

import (
	"encoding/json"
	"maps"
	"slices"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// smallSet is the most keys a Set keeps in a slice.
const smallSet = 8

type Set[KType comparable] struct {
	mu sync.RWMutex
	// small holds the keys while cache is nil; cache, once made (past smallSet keys), holds
	// them all.
	small []KType
	cache map[KType]Void
}

// NewSet creates a new Set and initializes it with the provided keys.
func NewSet[KType comparable](keys ...KType) *Set[KType] {
	s := &Set[KType]{}
	for _, key := range keys {
		s.add(key)
	}
	return s
}

// add adds key (caller must hold write lock).
func (s *Set[KType]) add(key KType) {
	switch {
	case s.cache != nil:
		s.cache[key] = NULL
	case slices.Contains(s.small, key):
	case len(s.small) < smallSet:
		s.small = append(s.small, key)
	default:
		s.cache = make(map[KType]Void, len(s.small)+1)
		for _, k := range s.small {
			s.cache[k] = NULL
		}
		s.cache[key] = NULL
		s.small = nil
	}
}

// Add adds the provided keys to the set.
func (s *Set[KType]) Add(keys ...KType) bool {
	if len(keys) == 0 {
		return false
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	for _, key := range keys {
		s.add(key) // idempotent
	}
	return true
}

// Delete removes the provided keys from the set.
func (s *Set[KType]) Delete(keys ...KType) bool {
	if len(keys) == 0 {
		return false
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	for _, key := range keys {
		if s.cache != nil {
			delete(s.cache, key)
		} else if i := slices.Index(s.small, key); i >= 0 {
			s.small = slices.Delete(s.small, i, i+1)
		}
	}
	return true
}

// Clear removes all items from the set, reusing the underlying memory.
func (s *Set[KType]) Clear() bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	clear(s.cache)
	clear(s.small)
	s.small = s.small[:0]
	return true
}

// Has checks if the set contains the provided key.
func (s *Set[KType]) Has(key KType) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()

	if s.cache != nil {
		_, exists := s.cache[key]
		return exists
	}
	return slices.Contains(s.small, key)
}

// Len returns the number of items in the set.
func (s *Set[KType]) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()

	if s.cache != nil {
		return len(s.cache)
	}
	return len(s.small)
}

// All returns a copy of the set's keys as a map.
func (s *Set[KType]) All() map[KType]Void {
	s.mu.RLock()
	defer s.mu.RUnlock()

	if s.cache != nil {
		return maps.Clone(s.cache)
	}
	all := make(map[KType]Void, len(s.small))
	for _, key := range s.small {
		all[key] = NULL
	}
	return all
}

// Keys returns a slice containing all keys in the set.
func (s *Set[KType]) Keys() []KType {
	s.mu.RLock()
	defer s.mu.RUnlock()

	return s.keys()
}

// keys returns a new slice of all keys, nil when there are none, without locking (caller must
// hold lock).
func (s *Set[KType]) keys() []KType {
	if s.cache != nil {
		return slices.Collect(maps.Keys(s.cache))
	}
	if len(s.small) == 0 {
		return nil
	}
	return slices.Clone(s.small)
}

// populate replaces the set contents from a slice of keys (caller must hold write lock).
func (s *Set[KType]) populate(keys []KType) {
	s.small, s.cache = nil, nil
	for _, key := range keys {
		s.add(key)
	}
}

// MarshalJSON implements the json.Marshaler interface.
func (s *Set[KType]) MarshalJSON() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()

	return json.Marshal(s.keys())
}

// UnmarshalJSON implements the json.Unmarshaler interface.
func (s *Set[KType]) UnmarshalJSON(data []byte) error {
	var keys []KType
	if err := json.Unmarshal(data, &keys); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.populate(keys)
	return nil
}

// MarshalMsgpack implements the msgpack.Marshaler interface.
func (s *Set[KType]) MarshalMsgpack() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()

	return msgpack.Marshal(s.keys())
}

// UnmarshalMsgpack implements the msgpack.Unmarshaler interface.
func (s *Set[KType]) UnmarshalMsgpack(data []byte) error {
	var keys []KType
	if err := msgpack.Unmarshal(data, &keys); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.populate(keys)
	return nil
}
