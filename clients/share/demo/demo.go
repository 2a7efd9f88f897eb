// Package demo is a built-in scripted coding agent for `pizzapi share --demo`: anyone can try the
// relay and its viewers without an LLM, and load tests get a realistic event stream.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pizzapi/pizzapi/clients/share"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
)

// Demo is a share.Source: it streams a scripted conversation in pi's event shapes (thinking,
// streamed text, tool calls with streamed output, todo updates), then stays idle until stopped.
// Each viewer message starts a run that streams a reply mentioning it; abort stops the current
// run; every command of the contract is answered: the model, thinking level and name can be
// changed, new_session, compact and resume_session replace the transcript, restart starts over,
// and the usual queries (models, commands, last text, MCP status, earlier sessions) are answered.
type Demo struct {
	// Speed multiplies the pace (a token every 20-40 ms at 1); 0 or less streams without pauses.
	Speed float64
	// NoOpening skips the scripted opening conversation: the agent starts idle.
	NoOpening bool

	// gate, when set, holds the opening until it is closed (tests).
	gate <-chan struct{}

	mu       sync.Mutex
	sink     share.Sink
	queue    []string      // messages waiting for the next run
	steer    []string      // messages to take into the current run
	wake     chan struct{} // a message was queued
	cancel   context.CancelFunc
	done     chan struct{} // closed when the current run ends
	model    protocol.AgentModel
	thinking commands.ThinkingLevel
	lastText string
	ids      int
}

// model returns a model of the demo's list.
func model(provider, id, name string, contextWindow int64) protocol.AgentModel {
	return protocol.AgentModel{Provider: provider, ID: id, Name: protocol.Some(name), Reasoning: protocol.Some(true), ContextWindow: protocol.Some(contextWindow)}
}

// Models are the models the demo agent offers.
var Models = []protocol.AgentModel{
	model("anthropic", "claude-sonnet-4-5", "Claude Sonnet 4.5", 200000),
	model("anthropic", "claude-opus-4-1", "Claude Opus 4.1", 200000),
	model("openai", "gpt-5", "GPT-5", 400000),
	model("google", "gemini-2.5-pro", "Gemini 2.5 Pro", 1048576),
}

// Commands are the demo agent's own commands.
var Commands = []protocol.AgentCommand{
	{Name: "review", Description: protocol.Some("Review the uncommitted changes")},
	{Name: "fix-tests", Description: protocol.Some("Run the tests and fix what fails")},
	{Name: "skill:go-bench", Description: protocol.Some("Benchmark a Go package and compare it with main")},
}

// thinkingLevels are the levels in the order cycle_thinking_level goes through them.
var thinkingLevels = []commands.ThinkingLevel{
	commands.ThinkingLevelOff, commands.ThinkingLevelMinimal, commands.ThinkingLevelLow,
	commands.ThinkingLevelMedium, commands.ThinkingLevelHigh, commands.ThinkingLevelXhigh,
}

// pastSessions are the earlier sessions list_resume_sessions reports.
var pastSessions = []commands.ResumeSession{
	{ID: "demo-1", Path: "/home/demo/.pi/sessions/demo-1.jsonl", Name: protocol.Some(ptr("Speed up the CI pipeline")),
		Modified: protocol.Some("2026-11-26T17:02:00.000Z"), FirstMessage: protocol.Some("CI takes 25 minutes; can you find what is slow?")},
	{ID: "demo-2", Path: "/home/demo/.pi/sessions/demo-2.jsonl", Name: protocol.Some[*string](nil),
		Modified: protocol.Some("2026-11-25T10:41:00.000Z"), FirstMessage: protocol.Some("Add a --json flag to the list command")},
}

func ptr[T any](v T) *T { return &v }

// Run implements share.Source.
func (d *Demo) Run(ctx context.Context, sink share.Sink) error {
	d.mu.Lock()
	d.sink = sink
	d.wake = make(chan struct{}, 1)
	d.model = Models[0]
	d.thinking = commands.ThinkingLevelMedium
	model := d.model
	d.mu.Unlock()
	sink.Update(func(s *share.State) {
		s.Model = &model
		s.ThinkingLevel = string(commands.ThinkingLevelMedium)
		s.AvailableModels = Models
		s.Commands = Commands
		if s.SessionName == "" {
			s.SessionName = "Fix the flaky reconnect test"
		}
	}, false)
	if d.gate != nil {
		select {
		case <-d.gate:
		case <-ctx.Done():
			return nil
		}
	}
	if !d.NoOpening {
		d.run(ctx, func(ctx context.Context) { d.converse(ctx, openingPrompt, opening) })
	}
	for {
		d.mu.Lock()
		var text string
		if len(d.queue) > 0 {
			text = d.queue[0]
			d.queue = d.queue[1:]
		}
		d.mu.Unlock()
		if text == "" {
			select {
			case <-ctx.Done():
				return nil
			case <-d.wake:
			}
			continue
		}
		d.run(ctx, func(ctx context.Context) { d.converse(ctx, text, reply(text)) })
		if ctx.Err() != nil {
			return nil
		}
	}
}

// run runs one agent run that abort can cancel.
func (d *Demo) run(ctx context.Context, f func(context.Context)) {
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	d.mu.Lock()
	d.cancel, d.done = cancel, done
	d.mu.Unlock()
	f(runCtx)
	cancel()
	d.mu.Lock()
	d.cancel, d.done = nil, nil
	// Steering messages that came too late for this run start the next one.
	d.queue = append(d.steer, d.queue...)
	d.steer = nil
	d.mu.Unlock()
	close(done)
}

// Input implements share.Source: the message starts a run; while one is running, "steer" takes
// it into the current run after the current step (the rest of the script is skipped) and
// anything else waits for the run to finish.
func (d *Demo) Input(_ context.Context, in share.Input) error {
	text := strings.TrimSpace(in.Text)
	if text == "" {
		text = "(an empty message)"
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.wake == nil {
		return fmt.Errorf("the demo agent: %w", share.ErrNotRunning)
	}
	if d.cancel != nil && in.DeliverAs == "steer" {
		d.steer = append(d.steer, text)
		return nil
	}
	d.queue = append(d.queue, text)
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return nil
}

// stop stops the current run and drops the queued messages; it returns once the run has ended.
func (d *Demo) stop(ctx context.Context) {
	d.mu.Lock()
	cancel, done := d.cancel, d.done
	d.queue, d.steer = nil, nil
	d.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// running returns the sink of the running agent, or an error wrapping share.ErrNotRunning.
func (d *Demo) running() (share.Sink, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sink == nil {
		return nil, fmt.Errorf("the demo agent: %w", share.ErrNotRunning)
	}
	return d.sink, nil
}

// Abort implements commands.Handler.
func (d *Demo) Abort(ctx context.Context, _ *commands.AbortParams) error {
	if _, err := d.running(); err != nil {
		return err
	}
	d.stop(ctx)
	return nil
}

// SetModel implements commands.Handler.
func (d *Demo) SetModel(_ context.Context, p *commands.SetModelParams) error {
	sink, err := d.running()
	if err != nil {
		return err
	}
	for _, m := range Models {
		if m.Provider == p.Provider && m.ID == p.ModelID {
			d.setModel(sink, m)
			return nil
		}
	}
	return protocol.Errorf(protocol.ErrorCodeNotFound, "Model not found: %s/%s", p.Provider, p.ModelID)
}

// CycleModel implements commands.Handler.
func (d *Demo) CycleModel(context.Context, *commands.CycleModelParams) (*protocol.AgentModel, error) {
	sink, err := d.running()
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	next := Models[0]
	for i, m := range Models {
		if m.Provider == d.model.Provider && m.ID == d.model.ID {
			next = Models[(i+1)%len(Models)]
		}
	}
	d.mu.Unlock()
	d.setModel(sink, next)
	return &next, nil
}

// GetAvailableModels implements commands.Handler.
func (d *Demo) GetAvailableModels(context.Context, *commands.GetAvailableModelsParams) (*commands.ModelList, error) {
	if _, err := d.running(); err != nil {
		return nil, err
	}
	return &commands.ModelList{Models: Models}, nil
}

// GetCommands implements commands.Handler.
func (d *Demo) GetCommands(context.Context, *commands.GetCommandsParams) (*commands.GetCommandsResult, error) {
	if _, err := d.running(); err != nil {
		return nil, err
	}
	return &commands.GetCommandsResult{Commands: Commands}, nil
}

// Mcp implements commands.Handler: the demo agent has one pretend MCP server.
func (d *Demo) Mcp(_ context.Context, p *commands.McpParams) (*commands.McpResult, error) {
	if _, err := d.running(); err != nil {
		return nil, err
	}
	servers := json.RawMessage(`[{"name":"demo-docs","status":"connected","tools":["search_docs","read_doc"]}]`)
	return &commands.McpResult{Action: protocol.Some(p.Action.Or(commands.McpActionStatus)), Extra: map[string]json.RawMessage{"servers": servers}}, nil
}

// SetThinkingLevel implements commands.Handler.
func (d *Demo) SetThinkingLevel(_ context.Context, p *commands.SetThinkingLevelParams) (*commands.ThinkingLevelResult, error) {
	sink, err := d.running()
	if err != nil {
		return nil, err
	}
	d.setThinking(sink, p.Level)
	return &commands.ThinkingLevelResult{ThinkingLevel: &p.Level}, nil
}

// CycleThinkingLevel implements commands.Handler.
func (d *Demo) CycleThinkingLevel(context.Context, *commands.CycleThinkingLevelParams) (*commands.ThinkingLevelResult, error) {
	sink, err := d.running()
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	next := thinkingLevels[0]
	for i, l := range thinkingLevels {
		if l == d.thinking {
			next = thinkingLevels[(i+1)%len(thinkingLevels)]
		}
	}
	d.mu.Unlock()
	d.setThinking(sink, next)
	return &commands.ThinkingLevelResult{ThinkingLevel: &next}, nil
}

// SetSteeringMode implements commands.Handler: the demo agent takes steering messages one at a
// time whatever the mode.
func (d *Demo) SetSteeringMode(context.Context, *commands.SetSteeringModeParams) error {
	_, err := d.running()
	return err
}

// SetFollowUpMode implements commands.Handler: the demo agent takes follow-ups one run at a time
// whatever the mode.
func (d *Demo) SetFollowUpMode(context.Context, *commands.SetFollowUpModeParams) error {
	_, err := d.running()
	return err
}

// SetSessionName implements commands.Handler.
func (d *Demo) SetSessionName(_ context.Context, p *commands.SetSessionNameParams) (*commands.SessionNameResult, error) {
	sink, err := d.running()
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(p.Name)
	if name == "" {
		return nil, errors.New("the session name must not be empty")
	}
	sink.Update(func(s *share.State) { s.SessionName = name }, false)
	return &commands.SessionNameResult{SessionName: name}, nil
}

// GetLastAssistantText implements commands.Handler.
func (d *Demo) GetLastAssistantText(context.Context, *commands.GetLastAssistantTextParams) (*commands.LastAssistantText, error) {
	if _, err := d.running(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lastText == "" {
		return &commands.LastAssistantText{}, nil
	}
	text := d.lastText
	return &commands.LastAssistantText{Text: &text}, nil
}

// Compact implements commands.Handler: the transcript is replaced by its (scripted) summary.
func (d *Demo) Compact(ctx context.Context, _ *commands.CompactParams) (*commands.CompactionResult, error) {
	sink, err := d.running()
	if err != nil {
		return nil, err
	}
	const summary = "The user asked about a flaky test; the demo agent found a race in the test and fixed it."
	sink.Update(func(s *share.State) {
		s.Messages = []json.RawMessage{summaryMessage(summary)}
	}, true)
	return &commands.CompactionResult{Summary: summary, FirstKeptEntryID: protocol.Some(""), TokensBefore: protocol.Some[int64](12840),
		Extra: map[string]json.RawMessage{"details": json.RawMessage("{}")}}, nil
}

// summaryMessage is the message a compaction leaves in place of the transcript.
func summaryMessage(summary string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"role": "compactionSummary", "summary": summary, "tokensBefore": 12840, "timestamp": time.Now().UnixMilli()})
	return b
}

// ListResumeSessions implements commands.Handler.
func (d *Demo) ListResumeSessions(_ context.Context, p *commands.ListResumeSessionsParams) (*commands.ResumeSessionList, error) {
	if _, err := d.running(); err != nil {
		return nil, err
	}
	sessions := pastSessions
	if limit, ok := p.Limit.Get(); ok && int(limit) < len(sessions) {
		sessions = sessions[:limit]
	}
	return &commands.ResumeSessionList{CurrentPath: protocol.Some(ptr("/home/demo/.pi/sessions/current.jsonl")), Sessions: sessions,
		NextCursor: protocol.Some[*string](nil)}, nil
}

// ResumeSession implements commands.Handler: the run stops and the transcript becomes the
// earlier session's first message.
func (d *Demo) ResumeSession(ctx context.Context, p *commands.ResumeSessionParams) (*commands.ResumedSession, error) {
	sink, err := d.running()
	if err != nil {
		return nil, err
	}
	var found *commands.ResumeSession
	query := strings.ToLower(p.Query.Or(""))
	for i, s := range pastSessions {
		switch {
		case p.SessionPath.Or("") != "":
			if s.Path == p.SessionPath.Or("") {
				found = &pastSessions[i]
			}
		case strings.Contains(strings.ToLower(s.ID+" "+s.Path+" "+deref(s.Name.Or(nil))+" "+s.FirstMessage.Or("")), query):
			if found == nil {
				found = &pastSessions[i]
			}
		}
	}
	if found == nil {
		return nil, errors.New("No other sessions found to resume")
	}
	d.stop(ctx)
	first := found.FirstMessage.Or("")
	name := deref(found.Name.Or(nil))
	sink.Update(func(s *share.State) {
		s.Messages = []json.RawMessage{mustJSON(userMessage(first))}
		s.SessionName = name
		s.TodoList = nil
	}, true)
	return &commands.ResumedSession{Session: *found}, nil
}

// NewSession implements commands.Handler.
func (d *Demo) NewSession(ctx context.Context, _ *commands.NewSessionParams) error {
	sink, err := d.running()
	if err != nil {
		return err
	}
	d.stop(ctx)
	sink.Update(func(s *share.State) { s.Messages, s.TodoList = nil, nil }, true)
	return nil
}

// EndSession implements commands.Handler; the publisher ends the session itself, so the demo
// agent has nothing to do.
func (d *Demo) EndSession(context.Context, *commands.EndSessionParams) error {
	_, err := d.running()
	return err
}

// ExportHtml implements commands.Handler: the demo agent writes no files, as PizzaPi's agent.
func (d *Demo) ExportHtml(context.Context, *commands.ExportHtmlParams) (*commands.ExportedFile, error) {
	return nil, protocol.NewError(protocol.ErrorCodeUnsupported, "export_html is not implemented for remote exec yet")
}

// Restart implements commands.Handler: the demo agent "restarts" by stopping its run and
// starting idle again with a fresh transcript.
func (d *Demo) Restart(ctx context.Context, _ *commands.RestartParams) error {
	sink, err := d.running()
	if err != nil {
		return err
	}
	d.stop(ctx)
	sink.Update(func(s *share.State) { s.Messages, s.TodoList, s.Active = nil, nil, false }, true)
	return nil
}

// ExtensionUIResponse implements commands.Handler: the demo agent has no extensions, so no
// dialog waits for an answer.
func (d *Demo) ExtensionUIResponse(_ context.Context, p *commands.ExtensionUIResponseParams) error {
	return fmt.Errorf("no such dialog is waiting for an answer: %s", p.RequestID)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// rawList encodes each element of a list.
func rawList[T any](list []T) []json.RawMessage {
	out := make([]json.RawMessage, len(list))
	for i, v := range list {
		out[i] = mustJSON(v)
	}
	return out
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (d *Demo) setModel(sink share.Sink, m protocol.AgentModel) {
	d.mu.Lock()
	d.model = m
	d.mu.Unlock()
	sink.Update(func(s *share.State) { s.Model = &m }, false)
}

func (d *Demo) setThinking(sink share.Sink, level commands.ThinkingLevel) {
	d.mu.Lock()
	d.thinking = level
	d.mu.Unlock()
	sink.Update(func(s *share.State) { s.ThinkingLevel = string(level) }, false)
}

// The script.

// demoTurn is one turn of a scripted run: a todo list update, then one assistant message made
// of blocks, then the tool calls it made.
type demoTurn struct {
	todos  []demoTodo
	blocks []demoBlock
}

// demoBlock is one content block: thinking, text, or a tool call.
type demoBlock struct {
	thinking, text string
	tool           *demoTool
}

type demoTool struct {
	name   string
	args   map[string]any
	output []string // streamed line by line
}

type demoTodo struct {
	ID      string `json:"id"`
	Content string `json:"content"`
	Status  string `json:"status"`
}

func todos(statuses ...string) []demoTodo {
	items := []string{"Reproduce the flaky failure", "Find the race", "Fix the test and verify it with -count=200"}
	out := make([]demoTodo, len(items))
	for i, c := range items {
		out[i] = demoTodo{ID: strconv.Itoa(i + 1), Content: c, Status: statuses[i]}
	}
	return out
}

const openingPrompt = "TestReconnect in internal/session fails now and then on CI. Can you find out why and fix it?"

const stressCommand = "go test -race -run TestReconnect -count=200 ./internal/session/"

var opening = []demoTurn{
	{blocks: []demoBlock{
		{thinking: "The user reports a flaky test. Before changing anything I should read the test and the code it exercises, then try to reproduce the failure by running it many times."},
		{text: "I'll start by reading the test to see what it checks."},
		{tool: &demoTool{name: "read", args: map[string]any{"path": "internal/session/session_test.go"}, output: []string{
			"func TestReconnect(t *testing.T) {",
			"\tsrv := startServer(t)",
			"\ts := srv.Connect(t, \"ada\")",
			"\ts.Conn().Close()",
			"\tif got := s.State(); got != Disconnected {",
			"\t\tt.Fatalf(\"state = %v, want disconnected\", got)",
			"\t}",
			"\ts2 := srv.Connect(t, \"ada\")",
			"\tif s2.ID() != s.ID() {",
			"\t\tt.Fatalf(\"reconnected to session %s, want %s\", s2.ID(), s.ID())",
			"\t}",
			"}",
		}}},
	}},
	{todos: todos("in_progress", "pending", "pending"), blocks: []demoBlock{
		{thinking: "The test closes the connection and immediately asserts that the session is disconnected, but the server handles the close on its own goroutine. That looks like a race; let me confirm by running the test many times with the race detector."},
		{text: "Let me try to reproduce it by running the test many times with the race detector."},
		{tool: &demoTool{name: "bash", args: map[string]any{"command": stressCommand}, output: []string{
			"=== RUN   TestReconnect",
			"    session_test.go:41: state = connected, want disconnected",
			"--- FAIL: TestReconnect (0.02s)",
			"=== RUN   TestReconnect",
			"    session_test.go:41: state = connected, want disconnected",
			"--- FAIL: TestReconnect (0.01s)",
			"=== RUN   TestReconnect",
			"    session_test.go:41: state = connected, want disconnected",
			"--- FAIL: TestReconnect (0.02s)",
			"FAIL",
			"FAIL\tgithub.com/example/app/internal/session\t4.812s",
			"FAIL",
			"",
			"Command exited with code 1",
		}}},
	}},
	{todos: todos("completed", "in_progress", "pending"), blocks: []demoBlock{
		{thinking: "3 failures in 200 runs, always the same assertion: the state is read before the server goroutine has processed the close. The fix belongs in the test: wait for the state change instead of checking right away."},
		{text: "Reproduced: 3 failures in 200 runs, all at the same assertion. The test checks the state right after closing the connection, but the server handles the close asynchronously. I'll make the test wait for the state change."},
		{tool: &demoTool{name: "edit", args: map[string]any{
			"path":    "internal/session/session_test.go",
			"oldText": "\tif got := s.State(); got != Disconnected {\n\t\tt.Fatalf(\"state = %v, want disconnected\", got)",
			"newText": "\tif !waitFor(time.Second, func() bool { return s.State() == Disconnected }) {\n\t\tt.Fatalf(\"state = %v, want disconnected\", s.State())",
		}, output: []string{"Successfully replaced text in internal/session/session_test.go."}}},
	}},
	{todos: todos("completed", "completed", "in_progress"), blocks: []demoBlock{
		{text: "Now the same stress run to verify the fix."},
		{tool: &demoTool{name: "bash", args: map[string]any{"command": stressCommand}, output: []string{
			"ok  \tgithub.com/example/app/internal/session\t9.113s",
		}}},
	}},
	{todos: todos("completed", "completed", "completed"), blocks: []demoBlock{
		{thinking: "All 200 runs pass with the race detector. Time to summarize."},
		{text: "Fixed.\n\n**Cause:** `TestReconnect` asserted the session state immediately after closing the connection, while the server handles the disconnect on its own goroutine, so under load the assertion sometimes ran first.\n\n**Fix:** the test now waits (up to 1 s) for the state to become `Disconnected` before asserting.\n\n**Verified:** `" + stressCommand + "` passes 200 out of 200 runs."},
	}},
}

// demoReply is the script of the answer to a viewer's message.
func reply(text string) []demoTurn {
	short := text
	if r := []rune(short); len(r) > 60 {
		short = string(r[:60]) + "…"
	}
	return []demoTurn{
		{blocks: []demoBlock{
			{thinking: fmt.Sprintf("The user wrote: “%s”. I am the demo agent, so I will acknowledge the message and show what a tool call looks like while it streams.", short)},
			{text: fmt.Sprintf("You said: “%s”. I'm the built-in demo agent of `pizzapi share`, so I can't really work on that, but this is what a reply looks like while it streams. Let me run a quick command.", text)},
			{tool: &demoTool{name: "bash", args: map[string]any{"command": "echo " + strconv.Quote(short)}, output: []string{short}}},
		}},
		{blocks: []demoBlock{
			{text: "Done. Send another message, switch the model, or press stop while I'm answering to see an abort."},
		}},
	}
}

// Streaming.

// pause waits base (scaled by Speed) and reports false when ctx ended.
func (d *Demo) pause(ctx context.Context, base time.Duration) bool {
	if d.Speed <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(time.Duration(float64(base) / d.Speed))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// tokenPause is the pause between two streamed tokens.
func (d *Demo) tokenPause(ctx context.Context) bool {
	return d.pause(ctx, time.Duration(20+rand.IntN(21))*time.Millisecond)
}

// tokens splits text into word-sized pieces.
func tokens(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		if (r == ' ' || r == '\n') && i+1-start >= 3 {
			out = append(out, text[start:i+1])
			start = i + 1
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

func (d *Demo) event(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	d.mu.Lock()
	sink := d.sink
	d.mu.Unlock()
	sink.Event(b)
}

func (d *Demo) nextID(prefix string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ids++
	return fmt.Sprintf("%s_%04d", prefix, d.ids)
}

// popSteer takes the first steering message, if any.
func (d *Demo) popSteer() (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.steer) == 0 {
		return "", false
	}
	text := d.steer[0]
	d.steer = d.steer[1:]
	return text, true
}

func (d *Demo) steering() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.steer) > 0
}

// converse streams one agent run: the user's message, then the scripted turns; steering
// messages cut the script short and get replies of their own in the same run.
func (d *Demo) converse(ctx context.Context, prompt string, turns []demoTurn) {
	d.event(&protocol.AgentStartEvent{Type: protocol.AgentEventAgentStart})
	var messages []any
	user := userMessage(prompt)
	d.event(map[string]any{"type": "message_start", "message": user})
	d.event(map[string]any{"type": "message_end", "message": user})
	messages = append(messages, user)
	aborted := false
	for len(turns) > 0 && !aborted {
		for i, t := range turns {
			msgs, ok := d.turn(ctx, t, nil)
			messages = append(messages, msgs...)
			if !ok {
				aborted = true
				break
			}
			if i < len(turns)-1 && d.steering() {
				break
			}
		}
		turns = nil
		if text, ok := d.popSteer(); ok && !aborted {
			// The steering message opens the next turn.
			turns = reply(text)
			msgs, ok := d.turn(ctx, turns[0], userMessage(text))
			messages = append(messages, msgs...)
			aborted = !ok
			turns = turns[1:]
		}
	}
	d.event(&protocol.AgentEndEvent{Type: protocol.AgentEventAgentEnd, Messages: protocol.Some(rawList(messages))})
}

func userMessage(text string) map[string]any {
	return map[string]any{"role": "user", "content": []any{map[string]string{"type": "text", "text": text}}, "timestamp": time.Now().UnixMilli()}
}

// turn streams one turn; with user set, the turn starts with that (steering) message. It returns
// the messages of the turn and false when it was aborted.
func (d *Demo) turn(ctx context.Context, t demoTurn, user map[string]any) ([]any, bool) {
	d.event(map[string]string{"type": "turn_start"})
	var messages []any
	if user != nil {
		d.event(map[string]any{"type": "message_start", "message": user})
		d.event(map[string]any{"type": "message_end", "message": user})
		messages = append(messages, user)
	}
	if t.todos != nil {
		d.event(&protocol.TodoUpdateEvent{Type: protocol.AgentEventTodoUpdate, Todos: protocol.Some(rawList(t.todos)), Ts: protocol.Some(float64(time.Now().UnixMilli()))})
	}
	msg, calls, ok := d.assistant(ctx, t.blocks)
	messages = append(messages, msg)
	results := []any{}
	if ok {
		for _, c := range calls {
			var res map[string]any
			res, ok = d.runTool(ctx, c)
			results = append(results, res)
			messages = append(messages, res)
			if !ok {
				break
			}
		}
	}
	d.event(map[string]any{"type": "turn_end", "message": msg, "toolResults": results})
	return messages, ok
}

// toolCall is a tool call the assistant made.
type toolCall struct {
	id   string
	tool *demoTool
}

// assistant streams an assistant message; it returns the message, its tool calls and false
// when it was aborted.
func (d *Demo) assistant(ctx context.Context, blocks []demoBlock) (map[string]any, []toolCall, bool) {
	d.mu.Lock()
	model := d.model
	d.mu.Unlock()
	content := []any{}
	msg := map[string]any{
		"role": "assistant", "content": content, "api": "demo", "provider": model.Provider, "model": model.ID,
		"usage": map[string]any{}, "stopReason": "stop", "timestamp": time.Now().UnixMilli(),
	}
	update := func(ev map[string]any) {
		msg["content"] = content
		d.event(map[string]any{"type": "message_update", "message": msg, "assistantMessageEvent": ev})
	}
	d.event(map[string]any{"type": "message_start", "message": msg})
	var calls []toolCall
	ok := d.pause(ctx, time.Duration(300+rand.IntN(300))*time.Millisecond)
	if ok {
		update(map[string]any{"type": "start"})
	}
	outTokens := 0
	for _, b := range blocks {
		if !ok {
			break
		}
		i := len(content)
		switch {
		case b.thinking != "":
			block := map[string]any{"type": "thinking", "thinking": ""}
			content = append(content, block)
			update(map[string]any{"type": "thinking_start", "contentIndex": i})
			for _, tok := range tokens(b.thinking) {
				if ok = d.tokenPause(ctx); !ok {
					break
				}
				block["thinking"] = block["thinking"].(string) + tok
				outTokens++
				update(map[string]any{"type": "thinking_delta", "contentIndex": i, "delta": tok})
			}
			update(map[string]any{"type": "thinking_end", "contentIndex": i, "content": block["thinking"]})
		case b.text != "":
			block := map[string]any{"type": "text", "text": ""}
			content = append(content, block)
			update(map[string]any{"type": "text_start", "contentIndex": i})
			for _, tok := range tokens(b.text) {
				if ok = d.tokenPause(ctx); !ok {
					break
				}
				block["text"] = block["text"].(string) + tok
				outTokens++
				update(map[string]any{"type": "text_delta", "contentIndex": i, "delta": tok})
			}
			update(map[string]any{"type": "text_end", "contentIndex": i, "content": block["text"]})
			if ok {
				d.mu.Lock()
				d.lastText = block["text"].(string)
				d.mu.Unlock()
			}
		case b.tool != nil:
			id := d.nextID("toolu_demo")
			call := map[string]any{"type": "toolCall", "id": id, "name": b.tool.name, "arguments": map[string]any{}}
			content = append(content, call)
			update(map[string]any{"type": "toolcall_start", "contentIndex": i})
			args, _ := json.Marshal(b.tool.args)
			for _, chunk := range chunks(string(args), 24) {
				if ok = d.tokenPause(ctx); !ok {
					break
				}
				outTokens++
				update(map[string]any{"type": "toolcall_delta", "contentIndex": i, "delta": chunk})
			}
			if !ok {
				break
			}
			call["arguments"] = b.tool.args
			update(map[string]any{"type": "toolcall_end", "contentIndex": i, "toolCall": call})
			calls = append(calls, toolCall{id, b.tool})
		}
	}
	msg["content"] = content
	msg["usage"] = demoUsage(outTokens)
	switch {
	case !ok:
		msg["stopReason"] = "aborted"
		msg["errorMessage"] = "Request was aborted"
		d.event(map[string]any{"type": "message_update", "message": msg, "assistantMessageEvent": map[string]any{"type": "error", "reason": "aborted"}})
	case len(calls) > 0:
		msg["stopReason"] = "toolUse"
		update(map[string]any{"type": "done", "reason": "toolUse"})
	default:
		update(map[string]any{"type": "done", "reason": "stop"})
	}
	d.event(map[string]any{"type": "message_end", "message": msg})
	return msg, calls, ok
}

// runTool streams a tool's execution and returns its toolResult message, and false when it was
// aborted.
func (d *Demo) runTool(ctx context.Context, c toolCall) (map[string]any, bool) {
	t := c.tool
	d.event(&protocol.ToolExecutionStartEvent{Type: protocol.AgentEventToolExecutionStart, ToolCallID: protocol.Some(c.id), ToolName: t.name, Args: mustJSON(t.args)})
	var out strings.Builder
	ok := true
	for i, line := range t.output {
		if ok = d.pause(ctx, time.Duration(60+rand.IntN(120))*time.Millisecond); !ok {
			break
		}
		if i > 0 {
			out.WriteByte('\n')
		}
		out.WriteString(line)
		if len(t.output) > 1 {
			d.event(map[string]any{"type": "tool_execution_update", "toolCallId": c.id, "toolName": t.name, "args": t.args,
				"partialResult": map[string]any{"content": []any{map[string]string{"type": "text", "text": out.String()}}, "details": map[string]any{}}})
		}
	}
	text := out.String()
	if !ok {
		text += "\n\nCommand aborted"
	}
	content := []any{map[string]string{"type": "text", "text": text}}
	d.event(&protocol.ToolExecutionEndEvent{Type: protocol.AgentEventToolExecutionEnd, ToolCallID: protocol.Some(c.id), ToolName: protocol.Some(t.name),
		Result: mustJSON(map[string]any{"content": content, "details": map[string]any{}}), IsError: protocol.Some(!ok)})
	res := map[string]any{"role": "toolResult", "toolCallId": c.id, "toolName": t.name, "content": content, "isError": !ok, "timestamp": time.Now().UnixMilli()}
	d.event(map[string]any{"type": "message_start", "message": res})
	d.event(map[string]any{"type": "message_end", "message": res})
	return res, ok
}

// chunks cuts s into pieces of n bytes (at rune boundaries).
func chunks(s string, n int) []string {
	var out []string
	for len(s) > n {
		i := n
		for i < len(s) && !utf8RuneStart(s[i]) {
			i++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// demoUsage is a plausible usage record for a message of n output tokens.
func demoUsage(n int) map[string]any {
	input, output, cacheRead := 1200+17*n, 3*n, 9000
	cost := map[string]float64{
		"input":      float64(input) * 3e-6,
		"output":     float64(output) * 15e-6,
		"cacheRead":  float64(cacheRead) * 0.3e-6,
		"cacheWrite": 0,
	}
	cost["total"] = cost["input"] + cost["output"] + cost["cacheRead"]
	return map[string]any{"input": input, "output": output, "cacheRead": cacheRead, "cacheWrite": 0,
		"totalTokens": input + output + cacheRead, "cost": cost}
}
