package core

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/pizzapi/pizzapi/server/live"
)

// connID names a connection across the cluster: the node holding it and its socket id.
func (c *Core) connID(conn Conn) string { return c.opts.NodeID + "/" + conn.ID() }

// nodeOf returns the node part of a connection id.
func nodeOf(connID string) string {
	node, _, _ := strings.Cut(connID, "/")
	return node
}

// held is what this node holds connections for: the sessions whose CLI and the runners whose
// daemon are connected here. In a cluster their live records are refreshed by this node.
type held struct {
	mu       sync.Mutex
	sessions map[string]bool
	runners  map[string]*runnerSocket
}

func (h *held) addSession(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions == nil {
		h.sessions = map[string]bool{}
	}
	h.sessions[id] = true
}

func (h *held) removeSession(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.sessions, id)
}

func (h *held) addRunner(id string, s *runnerSocket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.runners == nil {
		h.runners = map[string]*runnerSocket{}
	}
	h.runners[id] = s
}

func (h *held) removeRunner(id string, s *runnerSocket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.runners[id] == s {
		delete(h.runners, id)
	}
}

func (h *held) snapshot() ([]string, map[string]*runnerSocket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	sessions := make([]string, 0, len(h.sessions))
	for id := range h.sessions {
		sessions = append(sessions, id)
	}
	runners := make(map[string]*runnerSocket, len(h.runners))
	for id, s := range h.runners {
		runners[id] = s
	}
	return sessions, runners
}

// TouchInterval says how often Touch must run, or 0 when the live store needs no refreshing.
func (c *Core) TouchInterval() time.Duration {
	if t, ok := c.live.(live.Toucher); ok {
		return t.TouchInterval()
	}
	return 0
}

// Touch refreshes the live records of the connections this node holds, so that they never
// expire while connected, and puts back runner records the store lost (after a Redis restart).
func (c *Core) Touch(ctx context.Context) error {
	t, ok := c.live.(live.Toucher)
	if !ok {
		return nil
	}
	sessions, runners := c.held.snapshot()
	var errs []error
	if len(sessions) > 0 {
		if _, err := t.TouchSessions(ctx, sessions...); err != nil {
			errs = append(errs, err)
		}
	}
	if len(runners) == 0 {
		return errors.Join(errs...)
	}
	ids := make([]string, 0, len(runners))
	for id := range runners {
		ids = append(ids, id)
	}
	gone, err := t.TouchRunners(ctx, ids...)
	if err != nil {
		errs = append(errs, err)
	}
	for _, id := range gone {
		s := runners[id]
		s.mu.Lock()
		rec := s.record
		s.mu.Unlock()
		if rec != nil {
			if err := c.live.PutRunner(ctx, rec); err != nil {
				errs = append(errs, err)
			}
		}
	}
	var terms []string
	for id := range runners {
		list, err := c.live.RunnerTerminals(ctx, id)
		if err != nil {
			errs = append(errs, err)
		}
		for _, term := range list {
			terms = append(terms, term.ID)
		}
	}
	if len(terms) > 0 {
		if _, err := t.TouchTerminals(ctx, terms...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
