package watch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pizzapi/pizzapi/internal/sioclient"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
	"github.com/pizzapi/pizzapi/protocol/viewer"
)

// Options configures a watch.
type Options struct {
	URL    string
	APIKey string
	// Out receives the rendered output; Color turns on ANSI colours.
	Out   io.Writer
	Color bool
	// Input, when set, is read line by line and each line sent as collab input.
	Input io.Reader
}

// ErrUnauthorized is returned when the relay refuses the API key.
var ErrUnauthorized = errors.New("the relay refused the API key: run `pizzapi login`")

// follower watches one session.
type follower struct {
	viewer.UnimplementedClientHandler
	r       *Renderer
	client  *viewer.Client
	auth    viewer.Auth // sent again, with the last sequence number seen, on a reconnection
	exec    *executor
	mu      sync.Mutex
	lastSeq int64
	synced  bool
	// rejoining is set while the connection is closed to follow a new registration of the
	// session, so that closing it is not reported as a lost connection.
	rejoining bool
	done      chan error
}

// Follow prints one session until it ends (nil), ctx ends (nil) or the relay refuses (error).
// It reconnects by itself and, with the last sequence number it saw, gets exactly what it missed.
func Follow(ctx context.Context, o Options, sessionID string) error {
	f := &follower{r: NewRenderer(o.Out, o.Color), done: make(chan error, 1)}
	f.auth = viewer.Auth{APIKey: protocol.Some(o.APIKey), SessionID: protocol.Some(sessionID)}
	c, err := viewer.Dial(ctx, sioclient.Dialer{URL: o.URL, Reconnect: true}, &f.auth, f, protocol.Hooks{
		ConnectFailed: func(err error) {
			if errors.Is(err, protocol.ErrUnauthorized) {
				f.finish(ErrUnauthorized)
			}
		},
		Disconnected: func(reason string, serverClosed bool) {
			if f.rejoined() {
				return
			}
			if serverClosed {
				f.finish(nil)
				return
			}
			f.r.Line("connection lost (%s); reconnecting…", reason)
		},
		EventFailed: func(event string, err error) { f.r.Line("unexpected %s event: %v", event, err) },
	})
	if err != nil {
		return err
	}
	f.client = c
	f.exec = newExecutor(c.S)
	c.Connect()
	defer c.Close()
	if o.Input != nil {
		go f.sendInput(ctx, o.Input)
	}
	select {
	case err := <-f.done:
		return err
	case <-ctx.Done():
		return nil
	}
}

func (f *follower) finish(err error) {
	select {
	case f.done <- err:
	default:
	}
}

// Connected implements viewer.ClientHandler.
func (f *follower) Connected(_ context.Context, p *viewer.SessionConnected) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.ReplayOnly.Or(false) {
		f.r.Line("session %s is not live; showing its last state", p.SessionID)
		return nil
	}
	if seq, ok := p.LastSeq.Get(); ok {
		f.lastSeq = seq
	}
	if !f.synced {
		name := ""
		if n, _ := p.SessionName.Get(); n != nil {
			name = " (" + *n + ")"
		}
		f.r.Line("watching session %s%s", p.SessionID, name)
	} else {
		f.r.Line("reconnected")
	}
	f.synced = true
	return nil
}

// Event implements viewer.ClientHandler: events are printed once each, in order; a gap asks the
// relay for what is missing.
func (f *follower) Event(_ context.Context, p *viewer.ViewerEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	seq, numbered := p.Seq.Get()
	if numbered {
		switch {
		case seq <= f.lastSeq && p.Event.Type != "session_active" && p.Event.Type != "heartbeat":
			return nil
		case seq > f.lastSeq+1:
			return f.client.Resync(&viewer.Resync{LastSeq: protocol.Some(f.lastSeq)})
		}
		f.lastSeq = max(f.lastSeq, seq)
		f.auth.LastSeq = protocol.Some(f.lastSeq)
		f.client.SetAuth(&f.auth)
	}
	f.r.Event(p.Event.Raw)
	return nil
}

// Disconnected implements viewer.ClientHandler: the session ended, unless its agent registered it
// again without resuming it (code session_reconnected): the new registration is a new session
// under the same id, followed by connecting again from its first event.
func (f *follower) Disconnected(_ context.Context, p *viewer.Disconnected) error {
	if p.Code.Or("") != viewer.DisconnectCodeSessionReconnected {
		f.r.Line("%s", p.Reason)
		f.finish(nil)
		return nil
	}
	f.r.Line("the agent registered the session again; following it")
	f.mu.Lock()
	f.lastSeq, f.rejoining = 0, true
	f.auth.LastSeq = protocol.Some[int64](0)
	f.client.SetAuth(&f.auth)
	f.mu.Unlock()
	// The relay attaches a viewer to its session when it connects: the connection is dropped
	// and made again (the client reconnects by itself), off the event goroutine the drop reports
	// to.
	go f.client.DropTransport()
	return nil
}

// rejoined reports whether a disconnect is the one Disconnected caused to follow a new
// registration, and clears the mark.
func (f *follower) rejoined() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rejoining
	f.rejoining = false
	return r
}

// ExecResult implements viewer.ClientHandler: the answer to one of our commands goes to the
// command; others (another viewer's) are printed.
func (f *follower) ExecResult(_ context.Context, p *protocol.ExecResult) error {
	if f.exec.resolve(p) {
		return nil
	}
	if p.OK {
		f.r.Line("%s: done", p.Command)
	} else {
		f.r.Line("%s failed: %s", p.Command, p.Error.Or("unknown error"))
	}
	return nil
}

// Error implements viewer.ClientHandler. A session that is not live (or not the user's) ends
// Follow with an error that matches protocol.ErrSessionNotFound; other errors are shown.
func (f *follower) Error(_ context.Context, p *protocol.ErrorMessage) error {
	if p.Code == protocol.ErrorCodeSessionNotFound {
		f.finish(fmt.Errorf("cannot watch the session: %w", protocol.NewError(p.Code, p.Message)))
		return nil
	}
	f.r.Line("relay: %s", p.Message)
	return nil
}

// sendInput sends each line of in as collab input; a line starting with "/" is a command
// (/stop aborts the agent; see slashCommand), "//" sends a line starting with a slash.
func (f *follower) sendInput(ctx context.Context, in io.Reader) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	caller := commands.Caller{X: f.exec}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "//"):
			line = line[1:]
		case strings.HasPrefix(line, "/"):
			f.r.Line("%s", slashCommand(ctx, caller, line))
			continue
		}
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ack, err := f.client.Input(actx, &protocol.Input{Text: line, Client: protocol.Some("cli")})
		cancel()
		switch {
		case err != nil:
			f.r.Line("not sent: %v", err)
		case !ack.OK:
			f.r.Line("not delivered: %s", ack.Error.Or("unknown reason"))
		}
	}
}
