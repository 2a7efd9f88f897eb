package watch

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"text/tabwriter"

	"github.com/pizzapi/pizzapi/internal/sioclient"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/hub"
)

// lister shows the user's live sessions and follows the hub's updates.
type lister struct {
	hub.UnimplementedClientHandler
	r        *Renderer
	o        Options
	mu       sync.Mutex
	sessions map[string]protocol.SessionInfo
}

// List prints the user's live sessions and then each change, until ctx ends or the relay refuses.
func List(ctx context.Context, o Options) error {
	l := &lister{r: NewRenderer(o.Out, o.Color), o: o, sessions: map[string]protocol.SessionInfo{}}
	done := make(chan error, 1)
	c, err := hub.Dial(ctx, sioclient.Dialer{URL: o.URL, Reconnect: true}, &hub.Auth{APIKey: protocol.Some(o.APIKey)}, l, protocol.Hooks{
		ConnectFailed: func(err error) {
			if errors.Is(err, protocol.ErrUnauthorized) {
				select {
				case done <- ErrUnauthorized:
				default:
				}
			}
		},
		EventFailed: func(event string, err error) { l.r.Line("unexpected %s event: %v", event, err) },
	})
	if err != nil {
		return err
	}
	c.Connect()
	defer c.Close()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return nil
	}
}

// Sessions implements hub.ClientHandler: the full list, on every (re)connection.
func (l *lister) Sessions(_ context.Context, p *hub.Sessions) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sessions = map[string]protocol.SessionInfo{}
	for _, s := range p.Sessions {
		l.sessions[s.SessionID] = s
	}
	l.print()
	return nil
}

func (l *lister) print() {
	if len(l.sessions) == 0 {
		l.r.Line("no live sessions")
		return
	}
	ids := make([]string, 0, len(l.sessions))
	for id := range l.sessions {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return l.sessions[ids[i]].StartedAt < l.sessions[ids[j]].StartedAt })
	tw := tabwriter.NewWriter(l.o.Out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tNAME\tSTATE\tVIEWERS\tMODEL\tCWD")
	for _, id := range ids {
		s := l.sessions[id]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", id, deref(s.SessionName, "-"), state(s.IsActive), s.ViewerCount.Or(0), model(s.Model), s.Cwd)
	}
	tw.Flush()
}

// SessionAdded implements hub.ClientHandler.
func (l *lister) SessionAdded(_ context.Context, p *protocol.SessionInfo) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sessions[p.SessionID] = *p
	l.r.Line("+ %s %s (%s)", p.SessionID, deref(p.SessionName, ""), p.Cwd)
	return nil
}

// SessionRemoved implements hub.ClientHandler.
func (l *lister) SessionRemoved(_ context.Context, p *hub.SessionRemoved) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.sessions, p.SessionID)
	l.r.Line("- %s ended", p.SessionID)
	return nil
}

// SessionStatus implements hub.ClientHandler.
func (l *lister) SessionStatus(_ context.Context, p *hub.SessionStatus) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.sessions[p.SessionID]
	if !ok {
		return nil
	}
	s.IsActive, s.SessionName, s.Model, s.LastHeartbeatAt = p.IsActive, p.SessionName, p.Model, p.LastHeartbeatAt
	if v, ok := p.ViewerCount.Get(); ok {
		s.ViewerCount = protocol.Some(v)
	}
	l.sessions[p.SessionID] = s
	l.r.Line("~ %s %s, %d viewer(s), %s", p.SessionID, state(s.IsActive), s.ViewerCount.Or(0), model(s.Model))
	return nil
}

func state(active bool) string {
	if active {
		return "active"
	}
	return "idle"
}

func model(m *protocol.ModelInfo) string {
	if m == nil {
		return "-"
	}
	return m.Provider + "/" + m.ID
}

func deref(s *string, def string) string {
	if s == nil || *s == "" {
		return def
	}
	return *s
}
