// Package share publishes one agent session on a relay's /relay namespace: it registers the
// session, numbers the agent's events and streams them to the relay, which fans them out to the
// session's viewers, and it carries the viewers' collab-mode commands (input, model changes,
// remote commands) back to the agent.
//
// The events come from a Source: a pi coding agent in RPC mode running as a child process
// (RPC), a recorded JSON-lines event stream (JSONL) or the built-in scripted demo agent (package
// demo). Viewers' remote commands reach the source through the generated commands.Handler.
//
// Beyond PizzaPi's CLI, the stream survives reconnections without a gap: every event is numbered
// (1, 2, 3, ... for the lifetime of the process) and kept until the relay acknowledges it; after a
// reconnection the publisher registers with resume, and resends exactly the events above the
// relay's acknowledged number, in order. When that is impossible (the relay lost the session, or
// the bounded buffer had to forget unacknowledged events) it sends a fresh session_active
// snapshot instead.
package share

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/pizzapi/pizzapi/internal/sioclient"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
	"github.com/pizzapi/pizzapi/protocol/piext"
	"github.com/pizzapi/pizzapi/protocol/relay"
)

// ErrUnauthorized is returned when the relay refuses the API key.
var ErrUnauthorized = errors.New("the relay refused the API key: run pizzapi login")

// Options configures a shared session.
type Options struct {
	// RelayURL is the relay's base URL, e.g. http://localhost:3000.
	RelayURL string
	// APIKey authenticates the publisher (from `pizzapi login`).
	APIKey string
	// SessionID is the session's id; empty picks a new UUID (kept across reconnections).
	SessionID string
	// Cwd is the agent's working directory (default: the current directory).
	Cwd string
	// SessionName is the session's initial display name.
	SessionName string
	// Persistent registers a session that does not expire after inactivity.
	Persistent bool
	// InitialModel, when set, is the model the agent switches to once it has started (a runner
	// passes the model a spawn request asked for).
	InitialModel *protocol.AgentModel
	// InitialPrompt, when set, is sent to the agent as the first message once it has started.
	InitialPrompt string
	// Source produces the agent's events and carries out viewers' commands.
	Source Source
	// Out receives the share URL once the session is registered (default os.Stdout).
	Out io.Writer
	// Log receives progress messages and warnings (default os.Stderr).
	Log io.Writer

	// HeartbeatInterval is how often a heartbeat is published (default 10 s).
	HeartbeatInterval time.Duration
	// BufferEvents and BufferBytes bound the events kept until the relay acknowledges them
	// (default 10,000 events and 64 MB).
	BufferEvents int
	BufferBytes  int64
	// ReconnectDelay and ReconnectDelayMax bound the reconnection backoff (default 250 ms and
	// 10 s, so that a session whose relay node died resumes on another within a second).
	ReconnectDelay    time.Duration
	ReconnectDelayMax time.Duration
	// ConnectTimeout bounds one connection attempt (default 5 s).
	ConnectTimeout time.Duration
	// MaxEventBytes is the largest event sent to the relay (default 60 MB, under the relay's
	// default limit of 64 MB). A larger event would make the relay drop the connection, again
	// after every reconnection; it is replaced by a cli_error event saying so.
	MaxEventBytes int
	// EndTimeout bounds the waits when stopping (default 2 s): for the relay to take the events
	// not sent yet (as long as it takes some, up to five times as long in all) and to confirm the
	// session_end.
	EndTimeout time.Duration

	// Test hooks: started sees the publisher once it is running; published sees every event as
	// it is numbered (with the publisher's lock held).
	started   func(*publisher)
	published func(seq int64, raw []byte)
}

// maxInFlight bounds the events sent but not yet acknowledged, so that a slow connection holds
// events in our bounded buffer rather than in the Socket.IO library's unbounded one.
const maxInFlight = 4096

// Run publishes the session until ctx ends, the agent stops by itself, a viewer runs
// end_session or restarts the agent of a runner's session (Run returns ErrRestart, and leaves the
// session open for the worker the runner starts again), or the relay refuses the session for
// good. The source is started once the session
// is registered. On the way out it ends the session on the relay (session_end, with a bounded
// wait for it to be processed) and stops the source. It returns nil when ctx ended or the agent
// stopped normally, ErrUnauthorized when the relay refused the API key, and otherwise the reason
// the session ended.
func Run(ctx context.Context, o Options) error {
	if o.Source == nil {
		return errors.New("share: no event source")
	}
	if o.RelayURL == "" || o.APIKey == "" {
		return errors.New("share: the relay URL and the API key are required")
	}
	p := newPublisher(o)
	bg, stopBackground := context.WithCancel(context.Background())
	defer stopBackground()
	p.bg = bg
	go p.sendLoop(bg)
	if o.started != nil {
		o.started(p)
	}
	p.logf("connecting to %s", o.RelayURL)
	if err := p.dial(); err != nil {
		return err
	}
	var result error
	defer func() {
		if errors.Is(result, ErrRestart) {
			// The relay keeps the session through its reconnect grace for the restarted worker:
			// leaving the namespace would end it.
			p.conn().Abandon()
			return
		}
		p.conn().Close()
	}()
	go p.watchdog(bg)

	select {
	case <-p.firstRegistration:
	case err := <-p.fatal:
		return err
	case <-ctx.Done():
		return nil
	}
	go p.heartbeats(bg, orDefault(o.HeartbeatInterval, DefaultHeartbeatInterval))
	go p.commandLoop(bg)

	srcCtx, stopSource := context.WithCancel(context.Background())
	defer stopSource()
	srcDone := make(chan error, 1)
	go func() { srcDone <- o.Source.Run(srcCtx, sink{p}) }()
	if o.InitialModel != nil || o.InitialPrompt != "" {
		p.enqueue(p.startAgent) // ahead of any viewer command
	}

	sourceStopped := false
	select {
	case <-ctx.Done():
	case result = <-p.fatal:
	case result = <-srcDone:
		sourceStopped = true
		if ctx.Err() != nil {
			// Stopped at the same time as we were (Ctrl-C reaches the agent too): not a failure.
			result = nil
			break
		}
		if result != nil {
			p.logf("the agent stopped: %v", result)
		} else {
			p.logf("the agent stopped")
		}
	case <-p.endRequested:
		p.logf("a viewer ended the session")
	}
	stopSource()
	if !sourceStopped {
		select {
		case <-srcDone:
		case <-time.After(5 * time.Second):
			p.logf("the agent did not stop in time")
		}
	}
	// A restarting worker leaves the session open: the runner starts it again, and it registers
	// the same session.
	p.end(orDefault(o.EndTimeout, 2*time.Second), !errors.Is(result, ErrRestart))
	return result
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// publisher is the state of one shared session.
type publisher struct {
	o       Options
	src     Source
	bg      context.Context // lives until Run returns: commands and the sender use it
	started time.Time

	fatal             chan error    // the first fatal error ends Run
	firstRegistration chan struct{} // closed at the first registration
	endRequested      chan struct{} // closed when a viewer runs end_session
	wake              chan struct{} // tells the sender there may be work
	cmds              chan func(context.Context)
	endOnce           sync.Once
	logMu             sync.Mutex

	mu             sync.Mutex
	client         *relay.Client // the current connection
	clientNo       int           // numbers the clients; callbacks of replaced ones are ignored
	connected      bool
	attemptSince   time.Time // when the current connection attempt began
	sessionID      string
	token          string
	gen            int64 // connection generation: changes at every connect and disconnect
	registered     bool  // the current connection is registered
	everRegistered bool
	closing        bool
	unreachable    bool  // the last connection attempt failed (reported once)
	seq            int64 // the last number given to an event
	sentSeq        int64 // the last event sent on the current registration
	ackedSeq       int64 // the relay has processed every event up to this number
	buf            *resendBuffer
	state          State
	shareURL       string                       // the session's browser URL
	inbox          func(*piext.IncomingMessage) // takes messages from other sessions (nil: logged)
}

func newPublisher(o Options) *publisher {
	if o.SessionID == "" {
		o.SessionID = uuid.NewString()
	}
	if o.Cwd == "" {
		o.Cwd, _ = os.Getwd()
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	// Resolved here, once: the watchdog reasons about the same values the connection uses.
	o.ReconnectDelay = orDefault(o.ReconnectDelay, sioclient.DefaultReconnectDelay)
	o.ReconnectDelayMax = orDefault(o.ReconnectDelayMax, sioclient.DefaultReconnectDelayMax)
	o.ConnectTimeout = orDefault(o.ConnectTimeout, sioclient.DefaultConnectTimeout)
	return &publisher{
		o:                 o,
		src:               o.Source,
		started:           time.Now(),
		fatal:             make(chan error, 1),
		firstRegistration: make(chan struct{}),
		endRequested:      make(chan struct{}),
		wake:              make(chan struct{}, 1),
		cmds:              make(chan func(context.Context), 256),
		sessionID:         o.SessionID,
		buf:               newResendBuffer(o.BufferEvents, o.BufferBytes),
		state:             State{Cwd: o.Cwd, SessionName: o.SessionName},
	}
}

func (p *publisher) logf(format string, args ...any) {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	fmt.Fprintf(p.o.Log, "pizzapi share: "+format+"\n", args...)
}

// fail ends Run with err (the first error wins).
func (p *publisher) fail(err error) {
	select {
	case p.fatal <- err:
	default:
	}
}

// notify wakes the sender.
func (p *publisher) notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// DefaultMaxEventBytes is the default of Options.MaxEventBytes.
const DefaultMaxEventBytes = 60 << 20

// publishLocked numbers an agent event and queues it for the relay; the caller holds mu.
func (p *publisher) publishLocked(raw []byte) {
	if limit := cmp.Or(p.o.MaxEventBytes, DefaultMaxEventBytes); len(raw) > limit {
		var ev struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(raw, &ev)
		msg := fmt.Sprintf("A %s event of %d bytes was too large to relay (the limit is %d bytes).", ev.Type, len(raw), limit)
		p.logf("%s", msg)
		raw = cliErrorEvent(msg, "pizzapi share")
	}
	p.seq++
	p.buf.push(p.seq, raw)
	if p.o.published != nil {
		p.o.published(p.seq, raw)
	}
	p.notify()
}

// publishSnapshotLocked queues a heartbeat and a session_active snapshot; the caller holds mu.
func (p *publisher) publishSnapshotLocked() {
	p.publishHeartbeatLocked()
	p.publishLocked(p.state.sessionActiveEvent())
}

// publish numbers and queues one event.
func (p *publisher) publish(raw []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.publishLocked(raw)
}

// dial opens a new connection to the relay (replacing the current one, whose callbacks are
// ignored from then on). Reconnection is on: the client library retries with backoff.
func (p *publisher) dial() error {
	p.mu.Lock()
	p.clientNo++
	no := p.clientNo
	p.mu.Unlock()
	o := p.o
	d := sioclient.Dialer{
		URL:               o.RelayURL,
		Reconnect:         true,
		ReconnectDelay:    o.ReconnectDelay,
		ReconnectDelayMax: o.ReconnectDelayMax,
		ConnectTimeout:    o.ConnectTimeout,
	}
	c, err := relay.Dial(p.bg, d, &relay.Auth{APIKey: o.APIKey}, relayHandler{p: p}, protocol.Hooks{
		Connected:     func() { p.onConnect(no) },
		ConnectFailed: func(err error) { p.onConnectError(no, err) },
		Disconnected:  func(reason string, serverClosed bool) { p.onDisconnect(no, reason, serverClosed) },
		EventFailed: func(event string, err error) {
			if p.current(no) {
				p.logf("ignored a %q event from the relay: %v", event, err)
			}
		},
	})
	if err != nil {
		return err
	}
	p.mu.Lock()
	old := p.client
	p.client = c
	p.gen++
	p.registered, p.connected = false, false
	p.attemptSince = time.Now()
	p.mu.Unlock()
	if old != nil {
		// The session continues on the new connection: the old one does not leave, and its
		// handler gets no more events.
		old.Abandon()
	}
	c.Connect()
	return nil
}

// conn returns the current connection.
func (p *publisher) conn() *relay.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.client
}

// emitter returns an emitter on the current connection.
func (p *publisher) emitter() relay.ClientEmitter {
	return p.conn().ClientEmitter
}

// current reports whether no is the current connection.
func (p *publisher) current(no int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return no == p.clientNo
}

// watchdog replaces a connection whose attempt to connect hangs: when the namespace connection
// neither completes nor fails (a proxy that passes the handshake, then swallows what we send),
// the client library waits forever and never retries by itself.
// An attempt counts as hung when it has lasted longer than a connection timeout plus the
// longest reconnection delay.
func (p *publisher) watchdog(ctx context.Context) {
	hung := p.o.ConnectTimeout + p.o.ReconnectDelayMax*3/2 + 2*time.Second
	t := time.NewTicker(max(hung/10, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		stuck := !p.connected && !p.closing && time.Since(p.attemptSince) > hung
		p.mu.Unlock()
		if stuck {
			p.logf("the connection attempt hangs; starting a new connection")
			if err := p.dial(); err != nil {
				p.fail(err)
				return
			}
		}
	}
}

// onConnect registers the session on the new connection.
func (p *publisher) onConnect(no int) {
	p.mu.Lock()
	if no != p.clientNo {
		p.mu.Unlock()
		return
	}
	p.gen++
	gen := p.gen
	p.registered = false
	p.connected = true
	p.unreachable = false
	p.mu.Unlock()
	go p.register(gen)
}

// onConnectError ends Run when the relay refuses the API key; other failures are retried by the
// client library.
func (p *publisher) onConnectError(no int, err error) {
	p.mu.Lock()
	if no != p.clientNo {
		p.mu.Unlock()
		return
	}
	p.attemptSince = time.Now() // the library tries again
	first := !p.unreachable && !p.closing
	p.unreachable = true
	p.mu.Unlock()
	if errors.Is(err, protocol.ErrUnauthorized) {
		p.fail(ErrUnauthorized)
		return
	}
	if first {
		p.logf("cannot reach the relay (%v); retrying", err)
	}
}

// onDisconnect stops sending until the next registration.
func (p *publisher) onDisconnect(no int, reason string, serverClosed bool) {
	p.mu.Lock()
	if no != p.clientNo {
		p.mu.Unlock()
		return
	}
	p.gen++
	p.registered, p.connected = false, false
	p.attemptSince = time.Now()
	closing := p.closing
	p.mu.Unlock()
	if closing {
		return
	}
	if serverClosed {
		// The relay closed the connection on purpose (another publisher took the session over,
		// or it expired): the client does not reconnect by itself.
		p.fail(errors.New("the relay closed the connection"))
		return
	}
	p.logf("connection lost (%s); reconnecting", reason)
}

// register sends the registration of connection gen and applies its answer.
func (p *publisher) register(gen int64) {
	p.mu.Lock()
	if gen != p.gen {
		p.mu.Unlock()
		return
	}
	req := relay.Register{
		SessionID:  protocol.Some(p.sessionID),
		Cwd:        p.state.Cwd,
		Ephemeral:  protocol.Some(!p.o.Persistent),
		CollabMode: protocol.Some(true),
	}
	if name := p.state.SessionName; name != "" {
		req.SessionName = protocol.Some(&name)
	}
	if p.everRegistered {
		// Continue the session instead of replacing it. (Not on the first registration: a
		// session left over under the same id from an earlier process is replaced, as PizzaPi
		// does, since its numbers are not ours.)
		req.Resume = protocol.Some(true)
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(p.bg, 10*time.Second)
	defer cancel()
	reg, err := p.emitter().Register(ctx, &req)
	var refused *protocol.Error
	if errors.As(err, &refused) {
		// The relay refused the registration (its error event says the same): no retry helps.
		p.fail(fmt.Errorf("the relay refused the session: %w", err))
		return
	}
	if err != nil {
		p.mu.Lock()
		retry := gen == p.gen && !p.registered && !p.closing
		p.mu.Unlock()
		if retry {
			p.logf("the registration got no answer (%v); reconnecting", err)
			p.conn().DropTransport()
		}
		return
	}
	p.registeredAs(gen, reg)
}

// registeredAs applies a registration: from now on events go out with its token, starting after
// the number the relay has. The relay answers a registration twice (the acknowledgement and the
// registered event); the second answer changes nothing.
func (p *publisher) registeredAs(gen int64, reg *relay.Registered) {
	p.mu.Lock()
	if gen != p.gen || (p.registered && p.token == reg.Token) {
		p.mu.Unlock()
		return
	}
	first := !p.everRegistered
	p.sessionID, p.token, p.shareURL = reg.SessionID, reg.Token, reg.ShareURL
	acked := reg.AckedSeq.Or(0)
	resumed := reg.Resumed.Or(false)
	var note string
	if first || !resumed || p.buf.missing(acked) || acked > p.seq {
		// A new session on the relay, or one we cannot bring up to date event by event: start
		// it from a snapshot of the current state.
		if !first {
			if resumed {
				note = "reconnected, but some events were no longer buffered; sent a fresh snapshot"
			} else {
				note = "reconnected; the relay had ended the session, so it starts again from a snapshot"
			}
		}
		p.seq = max(p.seq, acked)
		p.buf.reset(p.seq)
		p.sentSeq, p.ackedSeq = p.seq, p.seq
		p.publishSnapshotLocked()
	} else {
		p.buf.ackThrough(acked)
		note = fmt.Sprintf("reconnected; resending %d events", p.seq-acked)
		p.sentSeq, p.ackedSeq = acked, acked
		p.publishHeartbeatLocked()
	}
	p.registered, p.everRegistered = true, true
	p.notify()
	p.mu.Unlock()
	if first {
		fmt.Fprintf(p.o.Out, "Sharing session %s: %s\n", reg.SessionID, reg.ShareURL)
		close(p.firstRegistration)
	} else {
		p.logf("%s", note)
	}
}

// sendLoop sends the numbered events in order, as far as the current registration allows: after
// a registration it starts again after the relay's acknowledged number, so resending after a
// reconnection and sending live events are the same thing.
func (p *publisher) sendLoop(ctx context.Context) {
	for {
		p.mu.Lock()
		var (
			e  entry
			ok bool
		)
		from, gen, token, id, client := p.sentSeq, p.gen, p.token, p.sessionID, p.client
		if p.registered && p.sentSeq-p.ackedSeq < maxInFlight {
			var gap bool
			e, ok, gap = p.buf.next(p.sentSeq)
			if gap {
				// Events were forgotten before they could be sent: the relay gets a snapshot.
				p.logf("the event buffer overflowed; sending a fresh snapshot")
				p.buf.reset(p.seq)
				p.sentSeq, p.ackedSeq = p.seq, p.seq
				p.publishSnapshotLocked()
				p.mu.Unlock()
				continue
			}
		}
		p.mu.Unlock()
		if !ok {
			select {
			case <-p.wake:
			case <-ctx.Done():
				return
			}
			continue
		}
		err := client.Event(&relay.EventMessage{
			SessionID: id,
			Token:     token,
			Event:     protocol.AgentEvent{Raw: e.raw},
			Seq:       protocol.Some(e.seq),
		})
		p.mu.Lock()
		if err == nil && gen == p.gen && p.sentSeq == from {
			p.sentSeq = e.seq
		}
		p.mu.Unlock()
		if err != nil {
			p.logf("sending event %d: %v", e.seq, err)
			select {
			case <-p.wake:
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return
			}
		}
	}
}

// acknowledged forgets the events the relay has processed.
func (p *publisher) acknowledged(seq int64) {
	p.mu.Lock()
	if seq > p.ackedSeq {
		p.ackedSeq = seq
		p.buf.ackThrough(seq)
	}
	p.mu.Unlock()
	p.notify()
}

// end ends the session on the relay: a last snapshot (what a viewer opening the ended session
// replays), the events not sent yet, then, when final, session_end. Sending the rest waits as
// long as it makes progress, up to five times timeout in all; a relay that takes nothing for
// timeout, or does not confirm the end within timeout, is given up on.
func (p *publisher) end(timeout time.Duration, final bool) {
	p.mu.Lock()
	p.closing = true
	registered := p.registered
	if registered {
		p.publishLocked(p.state.sessionActiveEvent())
	}
	p.mu.Unlock()
	if !registered {
		return
	}
	start, progress := time.Now(), time.Now()
	var last int64 = -1
	for {
		p.mu.Lock()
		done := !p.registered || p.sentSeq >= p.seq
		sent := p.sentSeq + p.ackedSeq
		p.mu.Unlock()
		now := time.Now()
		if sent != last {
			last, progress = sent, now
		}
		if done || now.Sub(progress) > timeout || now.Sub(start) > 5*timeout {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.mu.Lock()
	if unsent := p.seq - p.sentSeq; p.registered && unsent > 0 {
		p.logf("%d events could not be sent before the end", unsent)
	}
	registered = p.registered
	msg := relay.SessionEnd{SessionID: p.sessionID, Token: p.token}
	p.mu.Unlock()
	if !final {
		return
	}
	if !registered {
		p.logf("the connection is down; the relay will end the session by itself")
		return
	}
	// The contract gives session_end no acknowledgement, but our relay acknowledges every event
	// that asks for one after processing it: asking tells us the session really ended. A relay
	// that does not answer costs the rest of the timeout.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := p.conn().S.SendWithAck(ctx, relay.EventSessionEnd, msg.AppendJSON(nil)); err != nil {
		p.logf("the relay did not confirm the end of the session: %v", err)
		return
	}
	p.logf("session ended")
}

// requestEnd ends Run (end_session), once.
func (p *publisher) requestEnd() {
	p.endOnce.Do(func() { close(p.endRequested) })
}

// relayHandler handles the events the relay sends on /relay. Its methods run on the client's
// event goroutine and never block: commands go to the command queue.
type relayHandler struct {
	relay.UnimplementedClientHandler
	p *publisher
}

// Registered implements relay.ClientHandler (the registration's answer also comes as its
// acknowledgement; whichever arrives first counts).
func (h relayHandler) Registered(_ context.Context, reg *relay.Registered) error {
	h.p.mu.Lock()
	gen := h.p.gen
	h.p.mu.Unlock()
	h.p.registeredAs(gen, reg)
	return nil
}

// EventAck implements relay.ClientHandler.
func (h relayHandler) EventAck(_ context.Context, a *relay.EventAck) error {
	h.p.acknowledged(a.Seq)
	return nil
}

// Connected implements relay.ClientHandler: a viewer greeted; it gets the capabilities and a
// fresh snapshot.
func (h relayHandler) Connected(context.Context, *relay.ViewerConnected) error {
	p := h.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.publishLocked(p.state.capabilitiesEvent())
	p.publishLocked(p.state.sessionActiveEvent())
	return nil
}

// Input implements relay.ClientHandler.
func (h relayHandler) Input(_ context.Context, in *protocol.Input) error {
	h.p.enqueue(func(ctx context.Context) { h.p.input(ctx, in) })
	return nil
}

// ModelSet implements relay.ClientHandler.
func (h relayHandler) ModelSet(_ context.Context, m *protocol.ModelSet) error {
	h.p.enqueue(func(ctx context.Context) { _ = h.p.setModel(ctx, m.Provider, m.ModelID) })
	return nil
}

// Exec implements relay.ClientHandler. Commands run one at a time in arrival order, except
// abort, compact and extension_ui_response, which run at once (abort must not wait behind a
// command that waits for the agent, a compaction can take long, and an extension command waits
// for the answer to its dialog).
func (h relayHandler) Exec(_ context.Context, e *protocol.Exec) error {
	run := func(ctx context.Context) { h.p.exec(ctx, e) }
	switch e.Command {
	case commands.CommandAbort, commands.CommandCompact, commands.CommandEndSession, commands.CommandExtensionUIResponse:
		go run(h.p.bg)
	default:
		h.p.enqueue(run)
	}
	return nil
}

// SessionMessage implements relay.ClientHandler: messages from other sessions go to the agent's
// session tools (wait_for_message, check_messages); without them they are only logged.
func (h relayHandler) SessionMessage(_ context.Context, m *relay.SessionMessage) error {
	h.p.mu.Lock()
	inbox := h.p.inbox
	h.p.mu.Unlock()
	if inbox == nil {
		h.p.logf("message from session %s: %s", m.FromSessionID, m.Message)
		return nil
	}
	inbox(&piext.IncomingMessage{Type: "session_message", FromSessionID: m.FromSessionID, Message: m.Message, Ts: m.Ts})
	return nil
}

// SessionMessageError implements relay.ClientHandler.
func (h relayHandler) SessionMessageError(_ context.Context, m *relay.SessionMessageError) error {
	h.p.logf("message to session %s not delivered: %s", m.TargetSessionID, m.Error)
	return nil
}

// SessionExpired implements relay.ClientHandler.
func (h relayHandler) SessionExpired(context.Context, *relay.SessionExpired) error {
	h.p.fail(errors.New("the relay ended the session: it expired"))
	return nil
}

// Error implements relay.ClientHandler.
func (h relayHandler) Error(_ context.Context, e *protocol.ErrorMessage) error {
	p := h.p
	switch {
	case e.Event.Or("") == relay.EventRegister:
		p.fail(fmt.Errorf("the relay refused the session: %w", protocol.NewError(e.Code, e.Message)))
	case e.Code == protocol.ErrorCodeInvalidToken:
		// An event sent with the token of an earlier registration, around a reconnection: it
		// is sent again with the current one.
	case e.Code == protocol.ErrorCodeSessionExpired:
		// The relay ended the session under us: register again (it answers with a new session,
		// which gets a snapshot).
		p.mu.Lock()
		p.registered = false
		gen := p.gen
		p.mu.Unlock()
		go p.register(gen)
	default:
		p.logf("the relay reported an error: %s", e.Message)
	}
	return nil
}

// sink is the Sink the source publishes through.
type sink struct{ p *publisher }

// Event implements Sink.
func (s sink) Event(raw json.RawMessage) {
	var ev protocol.AgentEvent
	if err := ev.UnmarshalJSON(raw); err != nil {
		s.p.logf("dropped an agent event that does not match the contract: %v", err)
		return
	}
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	caps := p.state.capabilitiesKey()
	eff := p.state.observe(ev.Type, raw)
	p.publishLocked(raw)
	switch eff {
	case heartbeat:
		p.publishHeartbeatLocked()
	case snapshot:
		p.publishSnapshotLocked()
	}
	if p.state.capabilitiesKey() != caps {
		p.publishLocked(p.state.capabilitiesEvent())
	}
}

// Update implements Sink: a heartbeat follows when what heartbeats report changed, and the
// capabilities when the models or commands viewers may use changed (they become known some time
// after the agent starts: a viewer that greeted earlier got empty ones).
func (s sink) Update(f func(*State), snapshot bool) {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	before, caps := p.state.heartbeatKey(), p.state.capabilitiesKey()
	f(&p.state)
	if p.state.heartbeatKey() != before || snapshot {
		p.publishHeartbeatLocked()
	}
	if snapshot {
		p.publishLocked(p.state.sessionActiveEvent())
	}
	if p.state.capabilitiesKey() != caps {
		p.publishLocked(p.state.capabilitiesEvent())
	}
}
