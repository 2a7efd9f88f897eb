package share

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/piext"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/rest"
)

// RunnerIDEnv names the runner a runner-spawned session runs under; spawn_session starts new
// sessions there unless the agent names another runner.
const RunnerIDEnv = "PIZZAPI_RUNNER_ID"

// sessionRef implements agentTools.
func (s sink) sessionRef() (id, shareURL string) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	return s.p.sessionID, s.p.shareURL
}

// setInbox implements agentTools.
func (s sink) setInbox(deliver func(*piext.IncomingMessage)) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	s.p.inbox = deliver
}

// sendSessionMessage implements agentTools: the relay acknowledges whether the target session's
// agent got the message.
func (s sink) sendSessionMessage(ctx context.Context, target, message string) error {
	p := s.p
	p.mu.Lock()
	token, registered := p.token, p.registered
	p.mu.Unlock()
	if !registered {
		return errors.New("not connected to the relay; try again shortly")
	}
	ack, err := p.emitter().SessionMessage(ctx, &relay.SendSessionMessage{Token: token, TargetSessionID: target, Message: message})
	if err != nil {
		return fmt.Errorf("the relay did not confirm the message: %w", err)
	}
	if !ack.OK {
		message := ack.Error.Or("the message was not delivered")
		if code, ok := ack.Code.Get(); ok {
			return protocol.NewError(code, message)
		}
		return errors.New(message)
	}
	return nil
}

// spawnSession implements agentTools: POST /api/runners/spawn with the session's API key.
func (s sink) spawnSession(ctx context.Context, req *piext.SpawnSession) (*piext.Reply, error) {
	p := s.p
	runnerID := req.RunnerID.Or(os.Getenv(RunnerIDEnv))
	if runnerID == "" {
		return nil, errors.New("no runner to spawn on: this session was not started by a runner; pass runnerId")
	}
	body := rest.SpawnRequest{RunnerID: runnerID, Prompt: protocol.Some(req.Prompt), Cwd: protocol.Some(req.Cwd.Or(p.o.Cwd))}
	if m, ok := req.Model.Get(); ok {
		body.Model = protocol.Some(protocol.ModelInfo{Provider: m.Provider, ID: m.ID})
	}
	base := strings.TrimRight(p.o.RelayURL, "/")
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/runners/spawn", bytes.NewReader(body.AppendJSON(nil)))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("x-api-key", p.o.APIKey)
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("the relay could not be reached: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e rest.ErrorResponse
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("the runner did not start the session: %s", e.Error)
		}
		return nil, fmt.Errorf("the relay answered %s", resp.Status)
	}
	var out rest.SpawnResponse
	if err := out.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("unexpected answer from the relay: %w", err)
	}
	return &piext.Reply{
		OK:        true,
		SessionID: protocol.Some(out.SessionID),
		ShareURL:  protocol.Some(base + "/session/" + out.SessionID),
		RunnerID:  protocol.Some(out.RunnerID),
		Pending:   protocol.Some(out.Pending),
	}, nil
}
