package share

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// RPC is a Source that runs an agent speaking the pi coding agent's RPC mode (`pi --mode rpc`):
// JSON-lines commands on its standard input, responses ({"type":"response", "id", "success",
// "data" or "error"}) and agent events on its standard output. Every event it prints is relayed;
// viewers' input and commands are mapped onto RPC commands.
type RPC struct {
	// Argv is the agent's command line.
	Argv []string
	// Dir is its working directory ("" for ours); Env its environment (nil for ours).
	Dir string
	Env []string
	// Stderr receives the agent's standard error (default os.Stderr).
	Stderr io.Writer
	// Log receives problems with the agent's output (default os.Stderr).
	Log io.Writer
	// StopTimeout is how long the agent gets to exit once its input is closed: after half of it
	// it is asked to terminate (SIGTERM), after all of it killed (default 2 s).
	StopTimeout time.Duration
	// CallTimeout bounds the wait for a command's response (default 60 s; compact gets 10 min).
	CallTimeout time.Duration

	wmu   sync.Mutex // serializes writes to stdin
	stdin io.WriteCloser

	mu      sync.Mutex
	nextID  int
	pending map[string]chan rpcResponse
	exited  chan struct{} // closed when the agent's output ended
	active  bool          // between agent_start and agent_end
	out     Sink          // the sink of the running agent
}

// rpcResponse is an RPC mode response.
type rpcResponse struct {
	ID      string          `json:"id"`
	Command string          `json:"command"`
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   string          `json:"error"`
}

// Run implements Source: it starts the agent, reads its state, relays its output until ctx ends
// (then it stops the agent) or the agent exits.
func (r *RPC) Run(ctx context.Context, sink Sink) error {
	if len(r.Argv) == 0 {
		return errors.New("no agent command")
	}
	cmd := exec.Command(r.Argv[0], r.Argv[1:]...)
	cmd.Dir, cmd.Env = r.Dir, r.Env
	cmd.Stderr = orWriter(r.Stderr, os.Stderr)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the agent: %w", err)
	}
	r.wmu.Lock()
	r.stdin = stdin
	r.wmu.Unlock()
	r.mu.Lock()
	r.pending = map[string]chan rpcResponse{}
	r.exited = make(chan struct{})
	r.out = sink
	exited := r.exited
	r.mu.Unlock()

	go func() {
		r.read(stdout, sink)
		r.mu.Lock()
		close(r.exited)
		for id, ch := range r.pending {
			close(ch)
			delete(r.pending, id)
		}
		r.mu.Unlock()
	}()
	waited := make(chan error, 1)
	go func() {
		<-exited // the output is read to its end before Wait closes the pipe
		waited <- cmd.Wait()
	}()
	go r.loadState(ctx, sink)

	select {
	case err := <-waited:
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("the agent exited: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	// Stop: close its input (an RPC agent exits at the end of its input), then ask it to
	// terminate, then kill it.
	r.wmu.Lock()
	_ = stdin.Close()
	r.stdin = nil
	r.wmu.Unlock()
	stop := orDefault(r.StopTimeout, 2*time.Second)
	select {
	case <-waited:
		return nil
	case <-time.After(stop / 2):
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-waited:
	case <-time.After(stop / 2):
		_ = cmd.Process.Kill()
		_ = stdout.Close() // in case a process it started still holds its output open
		<-waited
	}
	return nil
}

// read relays the agent's output: responses go to the calls waiting for them, everything else
// is an event.
func (r *RPC) read(out io.Reader, sink Sink) {
	log := orWriter(r.Log, os.Stderr)
	br := bufio.NewReaderSize(out, 64<<10)
	for {
		// RPC framing: records end with \n only (JSON strings may hold U+2028), \r\n is accepted.
		line, err := br.ReadBytes('\n')
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) > 0 {
			r.handleLine(line, sink, log)
		}
		if err != nil {
			return
		}
	}
}

func (r *RPC) handleLine(line []byte, sink Sink, log io.Writer) {
	var head struct {
		Type    string `json:"type"`
		ID      string `json:"id"`
		Method  string `json:"method"`
		Success bool   `json:"success"`
	}
	if err := json.Unmarshal(line, &head); err != nil || head.Type == "" {
		fmt.Fprintf(log, "pizzapi share: the agent printed something that is not an event: %.200s\n", line)
		return
	}
	switch head.Type {
	case "response":
		var resp rpcResponse
		_ = json.Unmarshal(line, &resp)
		r.mu.Lock()
		ch, ok := r.pending[resp.ID]
		delete(r.pending, resp.ID)
		r.mu.Unlock()
		if ok {
			ch <- resp
			return
		}
		if !resp.Success {
			// A late failure, e.g. of a prompt that was accepted and then failed.
			sink.Event(cliErrorEvent(resp.Error, "agent"))
		}
		return
	case "agent_start", "agent_end":
		r.mu.Lock()
		r.active = head.Type == "agent_start"
		r.mu.Unlock()
	case "extension_ui_request":
		// Nobody can answer an extension's dialog here: relay the request (viewers see it) and
		// cancel it, so that the agent does not wait forever.
		switch head.Method {
		case "select", "confirm", "input", "editor":
			go func() {
				_ = r.send(map[string]any{"type": "extension_ui_response", "id": head.ID, "cancelled": true})
			}()
		}
	}
	sink.Event(json.RawMessage(bytes.Clone(line)))
}

// send writes one command.
func (r *RPC) send(cmd map[string]any) error {
	b, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if r.stdin == nil {
		return ErrNotRunning
	}
	_, err = r.stdin.Write(append(b, '\n'))
	return err
}

// call sends a command with a fresh id and waits for its response.
func (r *RPC) call(ctx context.Context, cmd map[string]any, timeout time.Duration) (json.RawMessage, error) {
	r.mu.Lock()
	if r.exited == nil {
		r.mu.Unlock()
		return nil, ErrNotRunning
	}
	select {
	case <-r.exited:
		r.mu.Unlock()
		return nil, ErrNotRunning
	default:
	}
	r.nextID++
	id := "pizzapi-" + strconv.Itoa(r.nextID)
	ch := make(chan rpcResponse, 1)
	r.pending[id] = ch
	r.mu.Unlock()
	cmd["id"] = id
	forget := func() {
		r.mu.Lock()
		delete(r.pending, id)
		r.mu.Unlock()
	}
	if err := r.send(cmd); err != nil {
		forget()
		return nil, err
	}
	if timeout <= 0 {
		timeout = orDefault(r.CallTimeout, 60*time.Second)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case resp, ok := <-ch:
		if !ok {
			return nil, ErrNotRunning
		}
		if !resp.Success {
			if resp.Error == "" {
				resp.Error = cmd["type"].(string) + " failed"
			}
			return nil, errors.New(resp.Error)
		}
		return resp.Data, nil
	case <-t.C:
		forget()
		return nil, fmt.Errorf("the agent did not answer %s in time", cmd["type"])
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	}
}

// loadState reads the agent's model, thinking level, name, models, commands and transcript and
// reports them (a snapshot follows). Commands the agent does not answer are skipped.
func (r *RPC) loadState(ctx context.Context, sink Sink) {
	const timeout = 10 * time.Second
	var st struct {
		Model         *Model `json:"model"`
		ThinkingLevel string `json:"thinkingLevel"`
		SessionName   string `json:"sessionName"`
		IsStreaming   bool   `json:"isStreaming"`
	}
	var models struct {
		Models []Model `json:"models"`
	}
	var commands struct {
		Commands []CommandInfo `json:"commands"`
	}
	var messages struct {
		Messages []json.RawMessage `json:"messages"`
	}
	haveState := decodeCall(r.call(ctx, map[string]any{"type": "get_state"}, timeout))(&st)
	haveModels := decodeCall(r.call(ctx, map[string]any{"type": "get_available_models"}, timeout))(&models)
	haveCommands := decodeCall(r.call(ctx, map[string]any{"type": "get_commands"}, timeout))(&commands)
	haveMessages := decodeCall(r.call(ctx, map[string]any{"type": "get_messages"}, timeout))(&messages)
	if ctx.Err() != nil {
		return
	}
	sink.Update(func(s *State) {
		if haveState {
			s.Model, s.ThinkingLevel, s.Active = st.Model, st.ThinkingLevel, st.IsStreaming
			if st.SessionName != "" {
				s.SessionName = st.SessionName
			}
		}
		if haveModels {
			s.AvailableModels = models.Models
		}
		if haveCommands {
			s.Commands = commands.Commands
		}
		if haveMessages {
			s.Messages = messages.Messages
		}
	}, true)
}

// decodeCall returns a function that decodes a call's data into v and reports success.
func decodeCall(data json.RawMessage, err error) func(v any) bool {
	return func(v any) bool {
		return err == nil && len(data) > 0 && json.Unmarshal(data, v) == nil
	}
}

// refresh re-reads the transcript (and state) after it changed as a whole and publishes a
// snapshot.
func (r *RPC) refresh(ctx context.Context, sink Sink) {
	var messages struct {
		Messages []json.RawMessage `json:"messages"`
	}
	var st struct {
		Model         *Model `json:"model"`
		ThinkingLevel string `json:"thinkingLevel"`
		SessionName   string `json:"sessionName"`
	}
	haveMessages := decodeCall(r.call(ctx, map[string]any{"type": "get_messages"}, 0))(&messages)
	haveState := decodeCall(r.call(ctx, map[string]any{"type": "get_state"}, 0))(&st)
	sink.Update(func(s *State) {
		if haveMessages {
			s.Messages = messages.Messages
		}
		if haveState {
			s.Model, s.ThinkingLevel, s.SessionName = st.Model, st.ThinkingLevel, st.SessionName
		}
	}, true)
}

// Input implements Source: the message becomes a prompt; deliverAs becomes its
// streamingBehavior. Without deliverAs, a message that arrives while the agent works is queued
// as a follow-up (pi refuses a prompt during a run without a streamingBehavior).
func (r *RPC) Input(ctx context.Context, in Input) error {
	cmd := map[string]any{"type": "prompt", "message": in.Text}
	if len(in.Images) > 0 {
		images := make([]map[string]string, len(in.Images))
		for i, img := range in.Images {
			images[i] = map[string]string{"type": "image", "data": img.Data, "mimeType": img.MimeType}
		}
		cmd["images"] = images
	}
	r.mu.Lock()
	active := r.active
	r.mu.Unlock()
	switch {
	case in.DeliverAs != "":
		cmd["streamingBehavior"] = in.DeliverAs
	case active:
		cmd["streamingBehavior"] = "followUp"
	}
	_, err := r.call(ctx, cmd, 0)
	return err
}

// Exec implements Source, mapping the commands of reference §3.1.4 onto RPC commands and
// reporting the state changes they cause.
func (r *RPC) Exec(ctx context.Context, c Command) (json.RawMessage, error) {
	r.mu.Lock()
	sink := r.out
	r.mu.Unlock()
	if sink == nil {
		return nil, ErrNotRunning
	}
	call := func(cmd map[string]any) (json.RawMessage, error) { return r.call(ctx, cmd, 0) }
	switch c.Name {
	case "abort":
		_, err := call(map[string]any{"type": "abort"})
		return nil, err
	case "set_model":
		data, err := call(map[string]any{"type": "set_model", "provider": c.String("provider"), "modelId": c.String("modelId")})
		if err != nil {
			return nil, err
		}
		var m Model
		if json.Unmarshal(data, &m) == nil && m.ID != "" {
			sink.Update(func(s *State) { s.Model = &m }, false)
		}
		return nil, nil
	case "cycle_model":
		data, err := call(map[string]any{"type": "cycle_model"})
		if err != nil {
			return nil, err
		}
		var res struct {
			Model         *Model `json:"model"`
			ThinkingLevel string `json:"thinkingLevel"`
		}
		if json.Unmarshal(data, &res) != nil || res.Model == nil {
			return json.RawMessage("null"), nil
		}
		sink.Update(func(s *State) {
			s.Model = res.Model
			if res.ThinkingLevel != "" {
				s.ThinkingLevel = res.ThinkingLevel
			}
		}, false)
		return json.Marshal(res.Model)
	case "get_available_models":
		data, err := call(map[string]any{"type": "get_available_models"})
		if err != nil {
			return nil, err
		}
		var res struct {
			Models []Model `json:"models"`
		}
		if err := json.Unmarshal(data, &res); err != nil {
			return nil, fmt.Errorf("unexpected answer to get_available_models: %v", err)
		}
		if res.Models == nil {
			res.Models = []Model{}
		}
		sink.Update(func(s *State) { s.AvailableModels = res.Models }, false)
		return json.Marshal(res)
	case "set_thinking_level":
		level := c.String("level")
		if _, err := call(map[string]any{"type": "set_thinking_level", "level": level}); err != nil {
			return nil, err
		}
		sink.Update(func(s *State) { s.ThinkingLevel = level }, false)
		return json.Marshal(map[string]string{"thinkingLevel": level})
	case "cycle_thinking_level":
		data, err := call(map[string]any{"type": "cycle_thinking_level"})
		if err != nil {
			return nil, err
		}
		var res struct {
			Level string `json:"level"`
		}
		if json.Unmarshal(data, &res) != nil || res.Level == "" {
			return json.RawMessage(`{"thinkingLevel":null}`), nil
		}
		sink.Update(func(s *State) { s.ThinkingLevel = res.Level }, false)
		return json.Marshal(map[string]string{"thinkingLevel": res.Level})
	case "compact":
		cmd := map[string]any{"type": "compact"}
		if c.Has("customInstructions") {
			cmd["customInstructions"] = c.String("customInstructions")
		}
		data, err := r.call(ctx, cmd, 10*time.Minute)
		if err != nil {
			return nil, err
		}
		r.refresh(ctx, sink)
		return data, nil
	case "set_session_name":
		name := c.String("name")
		if _, err := call(map[string]any{"type": "set_session_name", "name": name}); err != nil {
			return nil, err
		}
		sink.Update(func(s *State) { s.SessionName = name }, false)
		return json.Marshal(map[string]string{"sessionName": name})
	case "get_last_assistant_text":
		data, err := call(map[string]any{"type": "get_last_assistant_text"})
		if err != nil {
			return nil, err
		}
		var res struct {
			Text *string `json:"text"`
		}
		_ = json.Unmarshal(data, &res)
		return json.Marshal(res)
	case "get_commands":
		data, err := call(map[string]any{"type": "get_commands"})
		if err != nil {
			return nil, err
		}
		var res struct {
			Commands []CommandInfo `json:"commands"`
		}
		if err := json.Unmarshal(data, &res); err != nil {
			return nil, fmt.Errorf("unexpected answer to get_commands: %v", err)
		}
		if res.Commands == nil {
			res.Commands = []CommandInfo{}
		}
		sink.Update(func(s *State) { s.Commands = res.Commands }, false)
		return json.Marshal(res)
	case "new_session":
		data, err := call(map[string]any{"type": "new_session"})
		if err != nil {
			return nil, err
		}
		var res struct {
			Cancelled bool `json:"cancelled"`
		}
		if json.Unmarshal(data, &res) == nil && res.Cancelled {
			return nil, errors.New("an extension of the agent cancelled the new session")
		}
		r.refresh(ctx, sink)
		return nil, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownCommand, c.Name)
}

func orWriter(w, def io.Writer) io.Writer {
	if w == nil {
		return def
	}
	return w
}
