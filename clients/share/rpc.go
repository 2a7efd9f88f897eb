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

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
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

	// The commands pi's RPC mode has no counterpart for answer that they are not supported.
	commands.UnimplementedHandler
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
	case protocol.AgentEventAgentStart, protocol.AgentEventAgentEnd:
		r.mu.Lock()
		r.active = head.Type == protocol.AgentEventAgentStart
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
		Model         *protocol.AgentModel `json:"model"`
		ThinkingLevel string               `json:"thinkingLevel"`
		SessionName   string               `json:"sessionName"`
		IsStreaming   bool                 `json:"isStreaming"`
	}
	var models commands.ModelList
	var cmds commands.GetCommandsResult
	var messages struct {
		Messages []json.RawMessage `json:"messages"`
	}
	haveState := decodeCall(r.call(ctx, map[string]any{"type": "get_state"}, timeout))(&st)
	haveModels := decodeCall(r.call(ctx, map[string]any{"type": "get_available_models"}, timeout))(&models)
	haveCommands := decodeCall(r.call(ctx, map[string]any{"type": "get_commands"}, timeout))(&cmds)
	haveMessages := decodeCall(r.call(ctx, map[string]any{"type": "get_messages"}, timeout))(&messages)
	if ctx.Err() != nil {
		return
	}
	sink.Update(func(s *State) {
		if haveState {
			s.Model, s.ThinkingLevel, s.Active = trimmed(st.Model), st.ThinkingLevel, st.IsStreaming
			if st.SessionName != "" {
				s.SessionName = st.SessionName
			}
		}
		if haveModels {
			s.AvailableModels = trimModels(models.Models)
		}
		if haveCommands {
			s.Commands = trimCommands(cmds.Commands)
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
		Model         *protocol.AgentModel `json:"model"`
		ThinkingLevel string               `json:"thinkingLevel"`
		SessionName   string               `json:"sessionName"`
	}
	haveMessages := decodeCall(r.call(ctx, map[string]any{"type": "get_messages"}, 0))(&messages)
	haveState := decodeCall(r.call(ctx, map[string]any{"type": "get_state"}, 0))(&st)
	sink.Update(func(s *State) {
		if haveMessages {
			s.Messages = messages.Messages
		}
		if haveState {
			s.Model, s.ThinkingLevel, s.SessionName = trimmed(st.Model), st.ThinkingLevel, st.SessionName
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

// running returns the sink of the running agent, or ErrNotRunning.
func (r *RPC) running() (Sink, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.out == nil {
		return nil, ErrNotRunning
	}
	return r.out, nil
}

// command sends an RPC command (its type and parameters) to the running agent and returns the
// data of its response.
func (r *RPC) command(ctx context.Context, typ string, params map[string]any) (Sink, json.RawMessage, error) {
	sink, err := r.running()
	if err != nil {
		return nil, nil, err
	}
	cmd := map[string]any{"type": typ}
	for k, v := range params {
		cmd[k] = v
	}
	data, err := r.call(ctx, cmd, 0)
	return sink, data, err
}

// The commands of reference §3.1.4 map onto pi's RPC commands; the state changes they cause are
// reported through the sink. mcp, list_resume_sessions, resume_session and restart have no RPC
// command: they answer that this agent does not support them.

// Abort implements commands.Handler.
func (r *RPC) Abort(ctx context.Context, _ *commands.AbortParams) error {
	_, _, err := r.command(ctx, "abort", nil)
	return err
}

// SetModel implements commands.Handler.
func (r *RPC) SetModel(ctx context.Context, p *commands.SetModelParams) error {
	sink, data, err := r.command(ctx, "set_model", map[string]any{"provider": p.Provider, "modelId": p.ModelID})
	if err != nil {
		return err
	}
	var m protocol.AgentModel
	if m.UnmarshalJSON(data) == nil && m.ID != "" {
		m = trimModel(m)
		sink.Update(func(s *State) { s.Model = &m }, false)
	}
	return nil
}

// CycleModel implements commands.Handler.
func (r *RPC) CycleModel(ctx context.Context, _ *commands.CycleModelParams) (*protocol.AgentModel, error) {
	sink, data, err := r.command(ctx, "cycle_model", nil)
	if err != nil {
		return nil, err
	}
	var res struct {
		Model         *protocol.AgentModel `json:"model"`
		ThinkingLevel string               `json:"thinkingLevel"`
	}
	if json.Unmarshal(data, &res) != nil || res.Model == nil {
		return nil, nil
	}
	m := trimModel(*res.Model)
	sink.Update(func(s *State) {
		s.Model = &m
		if res.ThinkingLevel != "" {
			s.ThinkingLevel = res.ThinkingLevel
		}
	}, false)
	return &m, nil
}

// GetAvailableModels implements commands.Handler.
func (r *RPC) GetAvailableModels(ctx context.Context, _ *commands.GetAvailableModelsParams) (*commands.ModelList, error) {
	sink, data, err := r.command(ctx, "get_available_models", nil)
	if err != nil {
		return nil, err
	}
	var res commands.ModelList
	if err := res.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("unexpected answer to get_available_models: %w", err)
	}
	res.Models = trimModels(res.Models)
	res.Extra = nil
	sink.Update(func(s *State) { s.AvailableModels = res.Models }, false)
	return &res, nil
}

// SetThinkingLevel implements commands.Handler.
func (r *RPC) SetThinkingLevel(ctx context.Context, p *commands.SetThinkingLevelParams) (*commands.ThinkingLevelResult, error) {
	sink, _, err := r.command(ctx, "set_thinking_level", map[string]any{"level": p.Level})
	if err != nil {
		return nil, err
	}
	sink.Update(func(s *State) { s.ThinkingLevel = string(p.Level) }, false)
	return &commands.ThinkingLevelResult{ThinkingLevel: &p.Level}, nil
}

// CycleThinkingLevel implements commands.Handler.
func (r *RPC) CycleThinkingLevel(ctx context.Context, _ *commands.CycleThinkingLevelParams) (*commands.ThinkingLevelResult, error) {
	sink, data, err := r.command(ctx, "cycle_thinking_level", nil)
	if err != nil {
		return nil, err
	}
	var res struct {
		Level commands.ThinkingLevel `json:"level"`
	}
	if json.Unmarshal(data, &res) != nil || !res.Level.Valid() {
		return &commands.ThinkingLevelResult{}, nil
	}
	sink.Update(func(s *State) { s.ThinkingLevel = string(res.Level) }, false)
	return &commands.ThinkingLevelResult{ThinkingLevel: &res.Level}, nil
}

// SetSteeringMode implements commands.Handler.
func (r *RPC) SetSteeringMode(ctx context.Context, p *commands.SetSteeringModeParams) error {
	_, _, err := r.command(ctx, "set_steering_mode", map[string]any{"mode": p.Mode})
	return err
}

// SetFollowUpMode implements commands.Handler.
func (r *RPC) SetFollowUpMode(ctx context.Context, p *commands.SetFollowUpModeParams) error {
	_, _, err := r.command(ctx, "set_follow_up_mode", map[string]any{"mode": p.Mode})
	return err
}

// Compact implements commands.Handler; a compaction may take minutes.
func (r *RPC) Compact(ctx context.Context, p *commands.CompactParams) (*commands.CompactionResult, error) {
	sink, err := r.running()
	if err != nil {
		return nil, err
	}
	cmd := map[string]any{"type": "compact"}
	if ci, ok := p.CustomInstructions.Get(); ok {
		cmd["customInstructions"] = ci
	}
	data, err := r.call(ctx, cmd, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	r.refresh(ctx, sink)
	if len(data) == 0 || string(data) == "null" {
		return nil, nil
	}
	var res commands.CompactionResult
	if err := res.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("unexpected answer to compact: %w", err)
	}
	return &res, nil
}

// SetSessionName implements commands.Handler.
func (r *RPC) SetSessionName(ctx context.Context, p *commands.SetSessionNameParams) (*commands.SessionNameResult, error) {
	sink, _, err := r.command(ctx, "set_session_name", map[string]any{"name": p.Name})
	if err != nil {
		return nil, err
	}
	sink.Update(func(s *State) { s.SessionName = p.Name }, false)
	return &commands.SessionNameResult{SessionName: p.Name}, nil
}

// GetLastAssistantText implements commands.Handler.
func (r *RPC) GetLastAssistantText(ctx context.Context, _ *commands.GetLastAssistantTextParams) (*commands.LastAssistantText, error) {
	_, data, err := r.command(ctx, "get_last_assistant_text", nil)
	if err != nil {
		return nil, err
	}
	var res struct {
		Text *string `json:"text"`
	}
	_ = json.Unmarshal(data, &res)
	return &commands.LastAssistantText{Text: res.Text}, nil
}

// GetCommands implements commands.Handler.
func (r *RPC) GetCommands(ctx context.Context, _ *commands.GetCommandsParams) (*commands.GetCommandsResult, error) {
	sink, data, err := r.command(ctx, "get_commands", nil)
	if err != nil {
		return nil, err
	}
	var res commands.GetCommandsResult
	if err := res.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("unexpected answer to get_commands: %w", err)
	}
	res.Commands = trimCommands(res.Commands)
	res.Extra = nil
	sink.Update(func(s *State) { s.Commands = res.Commands }, false)
	return &res, nil
}

// NewSession implements commands.Handler.
func (r *RPC) NewSession(ctx context.Context, _ *commands.NewSessionParams) error {
	sink, data, err := r.command(ctx, "new_session", nil)
	if err != nil {
		return err
	}
	var res struct {
		Cancelled bool `json:"cancelled"`
	}
	if json.Unmarshal(data, &res) == nil && res.Cancelled {
		return errors.New("an extension of the agent cancelled the new session")
	}
	r.refresh(ctx, sink)
	return nil
}

// ExportHtml implements commands.Handler.
func (r *RPC) ExportHtml(ctx context.Context, p *commands.ExportHtmlParams) (*commands.ExportedFile, error) {
	params := map[string]any{}
	if out, ok := p.OutputPath.Get(); ok {
		params["outputPath"] = out
	}
	_, data, err := r.command(ctx, "export_html", params)
	if err != nil {
		return nil, err
	}
	var res commands.ExportedFile
	if err := res.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("unexpected answer to export_html: %w", err)
	}
	return &res, nil
}

// trimModel keeps the fields of a model that heartbeats, snapshots and capabilities report (pi's
// model objects carry their prices, APIs and limits as well).
func trimModel(m protocol.AgentModel) protocol.AgentModel {
	m.Extra = nil
	return m
}

// trimmed is trimModel for a model that may be nil.
func trimmed(m *protocol.AgentModel) *protocol.AgentModel {
	if m == nil {
		return nil
	}
	t := trimModel(*m)
	return &t
}

func trimModels(ms []protocol.AgentModel) []protocol.AgentModel {
	out := make([]protocol.AgentModel, len(ms))
	for i, m := range ms {
		out[i] = trimModel(m)
	}
	return out
}

// trimCommands keeps the name and description of the agent's commands.
func trimCommands(cs []protocol.AgentCommand) []protocol.AgentCommand {
	out := make([]protocol.AgentCommand, len(cs))
	for i, c := range cs {
		out[i] = protocol.AgentCommand{Name: c.Name, Description: c.Description}
	}
	return out
}

func orWriter(w, def io.Writer) io.Writer {
	if w == nil {
		return def
	}
	return w
}
