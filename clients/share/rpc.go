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

	"github.com/pizzapi/pizzapi/clients/share/agentext"
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
	// Extension loads PizzaPi's agent tools into the agent (pi's `-e`, see package agentext)
	// and serves their channel.
	Extension bool
	// DialogTimeout is how long an extension's dialog (select, confirm, input, editor) waits
	// for a viewer's answer before it is cancelled (default 5 min). AskUserQuestion waits until
	// it is answered or the run is aborted.
	DialogTimeout time.Duration

	wmu   sync.Mutex // serializes writes to stdin
	stdin io.WriteCloser

	mu          sync.Mutex
	nextID      int
	pending     map[string]pendingCall
	exited      chan struct{}     // closed when the agent's output ended
	active      bool              // between agent_start and agent_end
	thinking    string            // the thinking level the agent last reported
	out         Sink              // the sink of the running agent
	dialogs     dialogs           // extension dialogs waiting for an answer
	asked       map[string]string // the questions of running AskUserQuestion calls, by tool call id
	host        *extensionHost    // the channel of PizzaPi's extension (nil without it)
	restart     chan struct{}     // restarts the agent
	sessionFile string            // the agent's session file (get_state), for a restart

	// end_session is the publisher's; a command the contract adds later answers that it is not
	// supported.
	commands.UnimplementedHandler
}

// pendingCall is a command waiting for its response.
type pendingCall struct {
	ch chan rpcResponse
	// apply, when set, takes a successful response's data on the goroutine that reads the
	// agent's output, before it reads on: what it reports is ordered with the agent's events.
	apply func(json.RawMessage)
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
// (then it stops the agent) or the agent exits. The restart command starts the agent again on
// the same conversation, or, in a session a runner started, ends Run with ErrRestart.
func (r *RPC) Run(ctx context.Context, sink Sink) error {
	if len(r.Argv) == 0 {
		return errors.New("no agent command")
	}
	argv, env := r.Argv, r.Env
	var host *extensionHost
	if tools, ok := sink.(agentTools); ok && r.Extension {
		var err error
		if host, err = startExtensionHost(tools, sink, orWriter(r.Log, os.Stderr)); err != nil {
			return err
		}
		defer host.Close()
		if env == nil {
			env = os.Environ()
		}
		argv = append(append([]string(nil), argv...), "-e", host.Path)
		env = append(append([]string(nil), env...), agentext.SocketEnv+"="+host.Socket)
	}
	restart := make(chan struct{}, 1)
	r.mu.Lock()
	r.host, r.restart = host, restart
	r.mu.Unlock()
	args := argv
	for {
		restarted, err := r.runAgent(ctx, sink, args, env, restart)
		if !restarted {
			return err
		}
		if os.Getenv(RunnerIDEnv) != "" {
			// A runner's worker: the runner starts it again (exit code 43).
			return ErrRestart
		}
		r.mu.Lock()
		file := r.sessionFile
		r.mu.Unlock()
		args = argv
		if file != "" {
			args = append(append([]string(nil), argv...), "--session", file)
		}
		fmt.Fprintln(orWriter(r.Log, os.Stderr), "pizzapi share: restarting the agent")
	}
}

// ErrRestart is returned by RPC.Run when a viewer restarted the agent of a session a runner
// started: the worker exits with code 43, and the runner starts it again.
var ErrRestart = errors.New("the agent is restarting")

// runAgent runs the agent once, until ctx ends, the agent exits or restart receives (then it
// stops the agent and reports true).
func (r *RPC) runAgent(ctx context.Context, sink Sink, argv, env []string, restart <-chan struct{}) (bool, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = r.Dir, env
	cmd.Stderr = orWriter(r.Stderr, os.Stderr)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return false, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return false, err
	}
	if err := cmd.Start(); err != nil {
		return false, fmt.Errorf("starting the agent: %w", err)
	}
	r.wmu.Lock()
	r.stdin = stdin
	r.wmu.Unlock()
	r.mu.Lock()
	r.pending = map[string]pendingCall{}
	r.exited = make(chan struct{})
	r.out = sink
	r.active = false
	r.dialogs, r.asked = dialogs{}, map[string]string{}
	exited := r.exited
	r.mu.Unlock()
	defer r.dropDialogs()

	go func() {
		r.read(stdout, sink)
		r.mu.Lock()
		close(exited)
		for id, c := range r.pending {
			close(c.ch)
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

	restarted := false
	select {
	case err := <-waited:
		if err != nil && ctx.Err() == nil {
			return false, fmt.Errorf("the agent exited: %w", err)
		}
		return false, nil
	case <-ctx.Done():
	case <-restart:
		restarted = true
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
		return restarted, nil
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
	return restarted, nil
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
		c, ok := r.pending[resp.ID]
		delete(r.pending, resp.ID)
		r.mu.Unlock()
		if ok {
			if resp.Success && c.apply != nil {
				c.apply(resp.Data)
			}
			c.ch <- resp
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
	case "thinking_level_changed":
		var ev struct {
			Level string `json:"level"`
		}
		if json.Unmarshal(line, &ev) == nil {
			r.mu.Lock()
			r.thinking = ev.Level
			r.mu.Unlock()
		}
	case "compaction_end":
		// A compaction replaced the transcript (manual ones are re-read by the compact command).
		var ev struct {
			Reason string          `json:"reason"`
			Result json.RawMessage `json:"result"`
		}
		if json.Unmarshal(line, &ev) == nil && ev.Reason != "manual" && len(ev.Result) > 0 && string(ev.Result) != "null" {
			defer r.reload(sink)
		}
	case "extension_ui_request":
		// A dialog is relayed to viewers, who answer it (see dialog.go).
		switch head.Method {
		case "select", "confirm", "input", "editor":
			r.openDialog(line, sink)
		}
	case protocol.AgentEventToolExecutionStart, protocol.AgentEventToolExecutionEnd:
		r.followQuestion(head.Type, line)
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
	return r.callThen(ctx, cmd, timeout, nil)
}

// callThen is call, with apply taking the response's data in order with the agent's events (see
// pendingCall).
func (r *RPC) callThen(ctx context.Context, cmd map[string]any, timeout time.Duration, apply func(json.RawMessage)) (json.RawMessage, error) {
	wait, err := r.begin(cmd, apply)
	if err != nil {
		return nil, err
	}
	return wait(ctx, timeout)
}

// begin sends a command with a fresh id and returns the function that waits for its response (a
// timeout of 0 is CallTimeout).
func (r *RPC) begin(cmd map[string]any, apply func(json.RawMessage)) (func(context.Context, time.Duration) (json.RawMessage, error), error) {
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
	r.pending[id] = pendingCall{ch: ch, apply: apply}
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
	return func(ctx context.Context, timeout time.Duration) (json.RawMessage, error) {
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
	}, nil
}

// agentState is the part of get_state's answer share follows.
type agentState struct {
	Model         *protocol.AgentModel `json:"model"`
	ThinkingLevel string               `json:"thinkingLevel"`
	SessionName   string               `json:"sessionName"`
	IsStreaming   bool                 `json:"isStreaming"`
	SessionFile   string               `json:"sessionFile"`
}

// stateQuery is a command that reads part of the agent's state, and how its answer updates ours.
type stateQuery struct {
	cmd   string
	apply func(data json.RawMessage)
}

// stateQueries are the commands that read the agent's state: its state (model, thinking level,
// name, activity), its models and commands when all is set, and its transcript.
func (r *RPC) stateQueries(sink Sink, all bool) []stateQuery {
	qs := []stateQuery{{"get_state", func(data json.RawMessage) {
		var st agentState
		if json.Unmarshal(data, &st) != nil {
			return
		}
		r.mu.Lock()
		r.thinking, r.sessionFile = st.ThinkingLevel, st.SessionFile
		r.mu.Unlock()
		sink.Update(func(s *State) {
			s.Model, s.ThinkingLevel, s.Active = trimmed(st.Model), st.ThinkingLevel, st.IsStreaming
			// At the start, a name given to share (--name) stays until pi has one; after a new
			// or resumed session, pi's name is the name.
			if st.SessionName != "" || !all {
				s.SessionName = st.SessionName
			}
		}, false)
	}}}
	if all {
		qs = append(qs, stateQuery{"get_available_models", func(data json.RawMessage) {
			var res commands.ModelList
			if res.UnmarshalJSON(data) == nil {
				sink.Update(func(s *State) { s.AvailableModels = trimModels(res.Models) }, false)
			}
		}}, stateQuery{"get_commands", func(data json.RawMessage) {
			var res commands.GetCommandsResult
			if res.UnmarshalJSON(data) == nil {
				sink.Update(func(s *State) { s.Commands = trimCommands(res.Commands) }, false)
			}
		}})
	}
	return append(qs, stateQuery{"get_messages", func(data json.RawMessage) {
		var res struct {
			Messages []json.RawMessage `json:"messages"`
		}
		if json.Unmarshal(data, &res) == nil {
			sink.Update(func(s *State) { s.Messages = res.Messages }, false)
		}
	}})
}

// loadState reads the agent's state, models, commands and transcript once it has started, and
// publishes a snapshot. The answers are applied in order with the agent's events, so a message
// that ends after get_messages was answered is added to the transcript it returned, not lost.
// Commands the agent does not answer are skipped.
func (r *RPC) loadState(ctx context.Context, sink Sink) {
	r.query(ctx, sink, true, 30*time.Second)
}

// refresh re-reads the transcript and state after the transcript changed as a whole (a new
// session, a compaction) and publishes a snapshot.
func (r *RPC) refresh(ctx context.Context, sink Sink) {
	r.query(ctx, sink, false, 0)
}

// reload is refresh for the goroutine that reads the agent's output (which must not wait for
// answers it is the one to read).
func (r *RPC) reload(sink Sink) {
	go r.refresh(context.Background(), sink)
}

// query sends the state queries at once, waits for their answers and publishes a snapshot.
func (r *RPC) query(ctx context.Context, sink Sink, all bool, timeout time.Duration) {
	var wg sync.WaitGroup
	for _, q := range r.stateQueries(sink, all) {
		wait, err := r.begin(map[string]any{"type": q.cmd}, q.apply)
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = wait(ctx, timeout)
		}()
	}
	wg.Wait()
	if ctx.Err() == nil {
		sink.Update(func(*State) {}, true)
	}
}

// Input implements Source: the message answers the agent's pending AskUserQuestion, or becomes a
// prompt; deliverAs becomes its streamingBehavior. Without deliverAs, a message that arrives
// while the agent works is queued as a follow-up (pi refuses a prompt during a run without a
// streamingBehavior).
func (r *RPC) Input(ctx context.Context, in Input) error {
	cmd := map[string]any{"type": "prompt", "message": in.Text}
	if len(in.Images) > 0 {
		images := make([]map[string]string, len(in.Images))
		for i, img := range in.Images {
			images[i] = map[string]string{"type": "image", "data": img.Data, "mimeType": img.MimeType}
		}
		cmd["images"] = images
	}
	if r.answerQuestion(in.Text) {
		return nil
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
// reported through the sink. mcp, list_resume_sessions, resume_session, restart and
// extension_ui_response are in resume.go and dialog.go.

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

// SetThinkingLevel implements commands.Handler. pi clamps the level to what the model supports
// and reports the level it applied (thinking_level_changed, before its answer) when it changed.
func (r *RPC) SetThinkingLevel(ctx context.Context, p *commands.SetThinkingLevelParams) (*commands.ThinkingLevelResult, error) {
	sink, _, err := r.command(ctx, "set_thinking_level", map[string]any{"level": p.Level})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	level := commands.ThinkingLevel(r.thinking)
	r.mu.Unlock()
	if !level.Valid() {
		level = p.Level
	}
	sink.Update(func(s *State) { s.ThinkingLevel = string(level) }, false)
	return &commands.ThinkingLevelResult{ThinkingLevel: &level}, nil
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
