package share

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
)

// DefaultHeartbeatInterval is how often an idle session says it is alive.
const DefaultHeartbeatInterval = 10 * time.Second

// heartbeatEvent builds a heartbeat (reference §3.1.3) from the state; started is when the
// session started, for its uptime.
func (s *State) heartbeatEvent(started, now time.Time) []byte {
	uptime := float64(now.Sub(started).Milliseconds())
	ev := protocol.HeartbeatEvent{
		Type:          protocol.AgentEventHeartbeat,
		Active:        s.Active,
		Model:         protocol.Some(s.Model),
		SessionName:   protocol.Some(nullable(s.SessionName)),
		ThinkingLevel: protocol.Some(nullable(s.ThinkingLevel)),
		TokenUsage: protocol.Some(protocol.TokenUsage{
			Input:      protocol.Some(float64(s.TokenUsage.Input)),
			Output:     protocol.Some(float64(s.TokenUsage.Output)),
			CacheRead:  protocol.Some(float64(s.TokenUsage.CacheRead)),
			CacheWrite: protocol.Some(float64(s.TokenUsage.CacheWrite)),
			Cost:       protocol.Some(s.TokenUsage.Cost),
		}),
		Cwd:             protocol.Some(&s.Cwd),
		Uptime:          protocol.Some(&uptime),
		Ts:              protocol.Some(float64(now.UnixMilli())),
		ProviderUsage:   []byte("{}"),
		TodoList:        protocol.Some(orEmpty(s.TodoList)),
		PendingQuestion: protocol.Some(s.PendingQuestion),
	}
	return ev.AppendJSON(nil)
}

// heartbeats publishes a heartbeat every interval while the session is registered, until ctx
// ends. (While the connection is down there is nobody to tell, and the heartbeat sent after the
// next registration says it all.)
func (p *publisher) heartbeats(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.mu.Lock()
			if p.registered {
				p.publishHeartbeatLocked()
			}
			p.mu.Unlock()
		}
	}
}

// publishHeartbeatLocked numbers and queues a heartbeat; the caller holds mu.
func (p *publisher) publishHeartbeatLocked() {
	p.publishLocked(p.state.heartbeatEvent(p.started, time.Now()))
}

// heartbeatKey sums up what heartbeats report that changes on commands, to tell whether an
// update deserves a heartbeat.
func (s *State) heartbeatKey() string {
	model := ""
	if s.Model != nil {
		model = s.Model.Provider + "/" + s.Model.ID
	}
	return fmt.Sprint(s.Active, "|", model, "|", s.ThinkingLevel, "|", s.SessionName)
}

// capabilitiesKey sums up what the capabilities event reports, to tell whether it changed.
func (s *State) capabilitiesKey() string {
	b, _ := json.Marshal(struct {
		Models   []protocol.AgentModel
		Commands []protocol.AgentCommand
	}{s.AvailableModels, s.Commands})
	return string(b)
}
