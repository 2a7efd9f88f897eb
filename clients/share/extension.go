package share

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pizzapi/pizzapi/clients/share/agentext"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/piext"
)

// agentTools is what the PizzaPi extension's tools need from the publisher. The Sink the
// publisher gives a Source implements it; a source that runs the extension checks for it.
type agentTools interface {
	// sessionRef returns the session's id and share URL on the relay.
	sessionRef() (id, shareURL string)
	// sendSessionMessage sends a message to another session's agent through the relay.
	sendSessionMessage(ctx context.Context, target, message string) error
	// spawnSession starts a session on a runner through the relay's REST API.
	spawnSession(ctx context.Context, req *piext.SpawnSession) (*piext.Reply, error)
	// setInbox routes the messages other sessions send to this one to deliver (nil: nobody
	// takes them).
	setInbox(deliver func(*piext.IncomingMessage))
}

// Limits of the extension channel.
const (
	maxExtensionLine     = 4 << 20 // the longest line either side sends
	maxExtensionRequests = 8       // requests of one connection carried out at the same time
	maxInboxBacklog      = 1000    // messages kept for an extension that has not connected yet
	extensionWriteWait   = 10 * time.Second
	extensionCallWait    = 60 * time.Second
)

// extensionHost serves the channel of the PizzaPi extension running in pi (schema/piext.json):
// it writes the extension and listens on a Unix socket, both in a private directory.
type extensionHost struct {
	// Path is where the extension was written; Socket is the path pi's extension connects to.
	Path, Socket string

	dir   string
	ln    net.Listener
	tools agentTools
	sink  Sink
	log   io.Writer

	mu      sync.Mutex
	conns   map[*extensionConn]struct{}
	newest  *extensionConn           // the connection of the extension pi loaded last
	backlog []*piext.IncomingMessage // messages that arrived while no extension was connected
	closed  bool
	nextID  int
	waiting map[string]chan []byte // share's requests waiting for their answer (its line)
}

// startExtensionHost writes the extension and starts serving its channel.
func startExtensionHost(tools agentTools, sink Sink, log io.Writer) (*extensionHost, error) {
	dir, err := os.MkdirTemp("", "pizzapi-share-") // mode 0700: only this user reaches the socket
	if err != nil {
		return nil, fmt.Errorf("the extension's directory: %w", err)
	}
	h := &extensionHost{
		Path: filepath.Join(dir, agentext.FileName), Socket: filepath.Join(dir, "channel.sock"),
		dir: dir, tools: tools, sink: sink, log: log, conns: map[*extensionConn]struct{}{},
		waiting: map[string]chan []byte{},
	}
	if err := os.CopyFS(dir, agentext.Files); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("writing the extension: %w", err)
	}
	if h.ln, err = net.Listen("unix", h.Socket); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("the extension's socket: %w", err)
	}
	tools.setInbox(h.deliver)
	go h.accept()
	return h, nil
}

// Close stops serving and removes the directory.
func (h *extensionHost) Close() {
	h.tools.setInbox(nil)
	h.mu.Lock()
	h.closed = true
	conns := h.conns
	h.conns = map[*extensionConn]struct{}{}
	h.mu.Unlock()
	_ = h.ln.Close()
	for c := range conns {
		_ = c.conn.Close()
	}
	_ = os.RemoveAll(h.dir)
}

func (h *extensionHost) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "pizzapi share: extension: "+format+"\n", args...)
}

func (h *extensionHost) accept() {
	for {
		conn, err := h.ln.Accept()
		if err != nil {
			return
		}
		c := &extensionConn{h: h, conn: conn, slots: make(chan struct{}, maxExtensionRequests)}
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			_ = conn.Close()
			return
		}
		h.conns[c] = struct{}{}
		h.newest = c
		backlog := h.backlog
		h.backlog = nil
		h.mu.Unlock()
		for _, m := range backlog {
			c.write(m.AppendJSON(nil))
		}
		go c.serve()
	}
}

// deliver passes a message from another session to the connected extensions (pi reloads its
// extension on a new session: the old connection closes, a new one opens), or keeps it until one
// connects.
func (h *extensionHost) deliver(m *piext.IncomingMessage) {
	h.mu.Lock()
	if len(h.conns) == 0 {
		if len(h.backlog) == maxInboxBacklog {
			h.backlog = h.backlog[1:]
		}
		h.backlog = append(h.backlog, m)
		h.mu.Unlock()
		return
	}
	conns := make([]*extensionConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	line := m.AppendJSON(nil)
	for _, c := range conns {
		c.write(line)
	}
}

// listSessions asks the extension for pi's saved sessions.
func (h *extensionHost) listSessions(ctx context.Context) (*piext.SessionList, error) {
	var list piext.SessionList
	err := h.ask(ctx, func(id string) []byte {
		return (&piext.ListSessions{Type: "list_sessions", ID: id}).AppendJSON(nil)
	}, &list)
	if err != nil {
		return nil, err
	}
	if !list.OK {
		return nil, errors.New(list.Error.Or("the agent could not list its sessions"))
	}
	return &list, nil
}

// mcp asks the extension for the state of its MCP servers, after reloading them for "reload".
func (h *extensionHost) mcp(ctx context.Context, action piext.McpAction) (json.RawMessage, error) {
	var st piext.McpStatus
	err := h.ask(ctx, func(id string) []byte {
		return (&piext.Mcp{Type: "mcp", ID: id, Action: action}).AppendJSON(nil)
	}, &st)
	if err != nil {
		return nil, err
	}
	if !st.OK {
		return nil, errors.New(st.Error.Or("the extension could not report the MCP state"))
	}
	return st.Status, nil
}

// ask sends a request of share's to the extension pi loaded last and decodes its answer into out.
func (h *extensionHost) ask(ctx context.Context, request func(id string) []byte, out json.Unmarshaler) error {
	h.mu.Lock()
	c := h.newest
	h.nextID++
	id := fmt.Sprintf("s%d", h.nextID)
	ch := make(chan []byte, 1)
	if c != nil {
		h.waiting[id] = ch
	}
	h.mu.Unlock()
	if c == nil {
		return errors.New("PizzaPi's extension is not connected to the agent")
	}
	defer func() {
		h.mu.Lock()
		delete(h.waiting, id)
		h.mu.Unlock()
	}()
	c.write(request(id))
	ctx, cancel := context.WithTimeout(ctx, extensionCallWait)
	defer cancel()
	select {
	case line := <-ch:
		if err := out.UnmarshalJSON(line); err != nil {
			return fmt.Errorf("the extension answered with something invalid: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("the extension did not answer: %w", ctx.Err())
	}
}

// extensionConn is one connection of the extension.
type extensionConn struct {
	h     *extensionHost
	conn  net.Conn
	wmu   sync.Mutex
	slots chan struct{} // bounds the requests carried out at the same time
}

func (c *extensionConn) serve() {
	defer func() {
		c.h.mu.Lock()
		delete(c.h.conns, c)
		if c.h.newest == c {
			c.h.newest = nil
		}
		c.h.mu.Unlock()
		_ = c.conn.Close()
	}()
	sc := bufio.NewScanner(c.conn)
	sc.Buffer(make([]byte, 0, 64<<10), maxExtensionLine)
	for sc.Scan() {
		if line := sc.Bytes(); len(line) > 0 {
			c.handle(append([]byte(nil), line...))
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, net.ErrClosed) {
		c.h.logf("the connection failed: %v", err)
	}
}

// write sends one line (dropped, with the connection, when the extension does not read).
func (c *extensionConn) write(line []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(extensionWriteWait))
	if _, err := c.conn.Write(append(line, '\n')); err != nil {
		_ = c.conn.Close()
	}
}

func (c *extensionConn) reply(r *piext.Reply) {
	r.Type = "reply"
	c.write(r.AppendJSON(nil))
}

// handle carries out one line from the extension: notifications at once, requests on their own
// goroutine (at most maxExtensionRequests at a time; the reader waits for a free slot).
func (c *extensionConn) handle(line []byte) {
	var head struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		c.h.logf("ignored a line that is not a JSON object: %v", err)
		return
	}
	invalid := func(err error) {
		c.h.logf("ignored an invalid %s: %v", head.Type, err)
		if head.ID != "" && len(head.ID) <= 64 {
			c.reply(&piext.Reply{ID: head.ID, Error: protocol.Some("invalid " + head.Type + ": " + err.Error())})
		}
	}
	var run func(ctx context.Context) *piext.Reply
	switch head.Type {
	case "todo_update":
		var m piext.TodoUpdate
		if err := m.UnmarshalJSON(line); err != nil {
			invalid(err)
			return
		}
		todos := make([]json.RawMessage, 0, len(m.Todos))
		for _, item := range m.Todos {
			b, _ := item.MarshalJSON()
			todos = append(todos, b)
		}
		ev := protocol.TodoUpdateEvent{Type: string(protocol.AgentEventTodoUpdate), Todos: protocol.Some(todos), Ts: protocol.Some(float64(time.Now().UnixMilli()))}
		b, _ := ev.MarshalJSON()
		c.h.sink.Event(b)
		return
	case "model_select":
		var m piext.ModelSelect
		if err := m.UnmarshalJSON(line); err != nil {
			invalid(err)
			return
		}
		model := &protocol.AgentModel{Provider: m.Model.Provider, ID: m.Model.ID, Name: m.Model.Name, Reasoning: m.Model.Reasoning, ContextWindow: m.Model.ContextWindow}
		c.h.sink.Update(func(s *State) { s.Model = model }, false)
		return
	case "session_list", "mcp_status":
		// An answer to a request of share's: the waiting request decodes it.
		c.h.mu.Lock()
		ch := c.h.waiting[head.ID]
		delete(c.h.waiting, head.ID)
		c.h.mu.Unlock()
		if ch != nil {
			ch <- line
		}
		return
	case "get_session_id":
		var m piext.GetSessionID
		if err := m.UnmarshalJSON(line); err != nil {
			invalid(err)
			return
		}
		id, url := c.h.tools.sessionRef()
		c.reply(&piext.Reply{ID: m.ID, OK: true, SessionID: protocol.Some(id), ShareURL: protocol.Some(url)})
		return
	case "send_message":
		var m piext.SendMessage
		if err := m.UnmarshalJSON(line); err != nil {
			invalid(err)
			return
		}
		run = func(ctx context.Context) *piext.Reply {
			if err := c.h.tools.sendSessionMessage(ctx, m.TargetSessionID, m.Message); err != nil {
				return &piext.Reply{ID: m.ID, Error: protocol.Some(err.Error())}
			}
			return &piext.Reply{ID: m.ID, OK: true}
		}
	case "spawn_session":
		var m piext.SpawnSession
		if err := m.UnmarshalJSON(line); err != nil {
			invalid(err)
			return
		}
		run = func(ctx context.Context) *piext.Reply {
			r, err := c.h.tools.spawnSession(ctx, &m)
			if err != nil {
				return &piext.Reply{ID: m.ID, Error: protocol.Some(err.Error())}
			}
			r.ID = m.ID
			return r
		}
	default:
		invalid(fmt.Errorf("unknown message type %q", head.Type))
		return
	}
	c.slots <- struct{}{}
	go func() {
		defer func() { <-c.slots }()
		ctx, cancel := context.WithTimeout(context.Background(), extensionCallWait)
		defer cancel()
		c.reply(run(ctx))
	}()
}
