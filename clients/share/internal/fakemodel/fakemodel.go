// Package fakemodel is a scripted OpenAI-compatible model server for tests that run the real pi
// agent: it answers POST /v1/chat/completions with streamed chat completion chunks (server-sent
// events), each answer the next step of a script the test writes, and records every request.
package fakemodel

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Reply is one answer of the model: text, tool calls, or both.
type Reply struct {
	// Text is the assistant's text ("" for none).
	Text string
	// ToolCalls are the tools the model calls, in order.
	ToolCalls []ToolCall
	// Hold, when set, delays the end of the answer until it is closed (or the request ends):
	// the first chunk is sent at once, so the agent is busy while the test acts.
	Hold chan struct{}
}

// ToolCall is one call of a tool by the model.
type ToolCall struct {
	// Name is the tool's name.
	Name string
	// Args are its arguments, marshalled to JSON.
	Args any
}

// Request is what the agent sent in one chat completion request.
type Request struct {
	// Model is the model id asked for.
	Model string `json:"model"`
	// Messages are the chat messages, as sent.
	Messages []json.RawMessage `json:"messages"`
	// Tools are the tools offered, as sent.
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

// ToolNames lists the names of the tools the request offered.
func (r Request) ToolNames() []string {
	names := make([]string, len(r.Tools))
	for i, t := range r.Tools {
		names[i] = t.Function.Name
	}
	return names
}

// LastMessage returns the last chat message's text content (tool results included).
func (r Request) LastMessage() string {
	if len(r.Messages) == 0 {
		return ""
	}
	var m struct {
		Content json.RawMessage `json:"content"`
	}
	_ = json.Unmarshal(r.Messages[len(r.Messages)-1], &m)
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(m.Content, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// Server is a running fake model server.
type Server struct {
	// URL is its OpenAI-compatible base URL (ending in /v1).
	URL string

	mu       sync.Mutex
	script   []Reply
	requests []Request
	changed  chan struct{} // closed and replaced when a request arrives
	calls    int
}

// Start starts a server on a free loopback port, stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{URL: "http://" + ln.Addr().String() + "/v1", changed: make(chan struct{})}
	srv := &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Script appends replies to the script; each request takes the next one. A request beyond the
// script is answered with the text "(end of script)".
func (s *Server) Script(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, replies...)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// WaitRequests waits until n requests have arrived and returns them.
func (s *Server) WaitRequests(t testing.TB, n int, timeout time.Duration) []Request {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got, changed := len(s.requests), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Requests()
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("the model got %d requests, want %d", got, n)
		}
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	var req Request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&req); err != nil {
		http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	close(s.changed)
	s.changed = make(chan struct{})
	reply := Reply{Text: "(end of script)"}
	if len(s.script) > 0 {
		reply, s.script = s.script[0], s.script[1:]
	}
	s.calls++
	id := fmt.Sprintf("chatcmpl-%d", s.calls)
	s.mu.Unlock()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	flusher, _ := w.(http.Flusher)
	chunk := func(delta map[string]any, finish any, usage any) {
		c := map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		}
		if usage != nil {
			c["usage"] = usage
		}
		b, _ := json.Marshal(c)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	chunk(map[string]any{"role": "assistant", "content": ""}, nil, nil)
	if reply.Hold != nil {
		select {
		case <-reply.Hold:
		case <-r.Context().Done():
			return
		}
	}
	if reply.Text != "" {
		// Two pieces, so that the agent streams deltas.
		half := len(reply.Text) / 2
		chunk(map[string]any{"content": reply.Text[:half]}, nil, nil)
		chunk(map[string]any{"content": reply.Text[half:]}, nil, nil)
	}
	for i, tc := range reply.ToolCalls {
		args, _ := json.Marshal(tc.Args)
		chunk(map[string]any{"tool_calls": []any{map[string]any{
			"index": i, "id": fmt.Sprintf("call_%d_%d", s.callNo(), i), "type": "function",
			"function": map[string]any{"name": tc.Name, "arguments": string(args)},
		}}}, nil, nil)
	}
	finish := "stop"
	if len(reply.ToolCalls) > 0 {
		finish = "tool_calls"
	}
	chunk(map[string]any{}, finish, map[string]any{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15})
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

// callNo numbers tool call ids by request, so that they are unique across the session.
func (s *Server) callNo() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}
