package share

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// DefaultHeartbeatInterval is how often an idle session says it is alive.
const DefaultHeartbeatInterval = 10 * time.Second

// heartbeatEvent builds a heartbeat (reference §3.1.3) from the state; started is when the
// session started, for its uptime.
func (s *State) heartbeatEvent(started, now time.Time) []byte {
	b, _ := json.Marshal(struct {
		Type            string          `json:"type"`
		Active          bool            `json:"active"`
		Model           *Model          `json:"model"`
		SessionName     *string         `json:"sessionName"`
		ThinkingLevel   *string         `json:"thinkingLevel"`
		TokenUsage      TokenUsage      `json:"tokenUsage"`
		Cwd             string          `json:"cwd"`
		Uptime          int64           `json:"uptime"`
		Ts              int64           `json:"ts"`
		ProviderUsage   struct{}        `json:"providerUsage"`
		TodoList        json.RawMessage `json:"todoList"`
		PendingQuestion json.RawMessage `json:"pendingQuestion"`
	}{
		Type:            "heartbeat",
		Active:          s.Active,
		Model:           s.Model,
		SessionName:     nullable(s.SessionName),
		ThinkingLevel:   nullable(s.ThinkingLevel),
		TokenUsage:      s.TokenUsage,
		Cwd:             s.Cwd,
		Uptime:          now.Sub(started).Milliseconds(),
		Ts:              now.UnixMilli(),
		TodoList:        orEmptyArray(s.TodoList),
		PendingQuestion: orNull(s.PendingQuestion),
	})
	return b
}

func orNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
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
