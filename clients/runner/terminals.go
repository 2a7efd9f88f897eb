package runner

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/creack/pty"

	"github.com/pizzapi/pizzapi/protocol"
	rproto "github.com/pizzapi/pizzapi/protocol/runner"
)

// How terminal output is batched: reads are coalesced for up to coalesceWait into chunks of
// about chunkBytes, so a burst of output makes a few events rather than one per read.
const (
	chunkBytes   = 8 << 10
	coalesceWait = 4 * time.Millisecond
	// drainWait is how long output is still read after the shell exited, when something else in
	// its session keeps the PTY open.
	drainWait = 300 * time.Millisecond
)

// terminals are the PTYs this runner has open.
type terminals struct {
	d        *Daemon
	mu       sync.Mutex
	open     map[string]*term
	stopping bool
}

// term is one terminal: a shell in a PTY, leading a session of its own.
type term struct {
	id     string
	cmd    *exec.Cmd
	pty    *os.File // non-blocking, so that Close interrupts a pending Read
	input  chan []byte
	killed atomic.Bool
	done   chan struct{}
}

// NewTerminal implements rproto.ClientHandler.
func (h *handler) NewTerminal(_ context.Context, p *rproto.NewTerminal) error {
	if err := h.d.terms.start(p); err != nil {
		h.d.log.Warn("cannot open a terminal", "terminal", p.TerminalID, "error", err)
		h.d.failed(rproto.EventTerminalError, h.d.emit.TerminalError(&protocol.TerminalError{TerminalID: p.TerminalID, Code: failureCode(err), Message: err.Error()}))
	}
	return nil
}

// TerminalInput implements rproto.ClientHandler.
func (h *handler) TerminalInput(_ context.Context, p *rproto.TerminalInput) error {
	t := h.d.terms.get(p.TerminalID)
	if t == nil {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(p.Data)
	if err != nil {
		return fmt.Errorf("terminal input is not base64: %w", err)
	}
	select {
	case t.input <- b:
	case <-t.done:
	default:
		h.d.log.Warn("terminal input dropped: the shell is not reading", "terminal", p.TerminalID)
	}
	return nil
}

// TerminalResize implements rproto.ClientHandler.
func (h *handler) TerminalResize(_ context.Context, p *rproto.TerminalResize) error {
	if t := h.d.terms.get(p.TerminalID); t != nil {
		return setSize(t.pty, p.Cols, p.Rows)
	}
	return nil
}

// KillTerminal implements rproto.ClientHandler: the terminal ends with terminal_exit -1.
func (h *handler) KillTerminal(_ context.Context, p *rproto.KillTerminal) error {
	t := h.d.terms.get(p.TerminalID)
	if t == nil {
		h.d.failed(rproto.EventTerminalError, h.d.emit.TerminalError(&protocol.TerminalError{TerminalID: p.TerminalID, Code: protocol.Some(protocol.ErrorCodeTerminalNotFound), Message: "Terminal not found"}))
		return nil
	}
	h.d.async(func() { h.d.terms.kill(t) })
	return nil
}

// ListTerminals implements rproto.ClientHandler.
func (h *handler) ListTerminals(_ context.Context, p *rproto.ListTerminals) error {
	h.d.terms.mu.Lock()
	ids := make([]string, 0, len(h.d.terms.open))
	for id := range h.d.terms.open {
		ids = append(ids, id)
	}
	h.d.terms.mu.Unlock()
	slices.Sort(ids)
	h.d.failed(rproto.EventTerminalsList, h.d.emit.TerminalsList(&rproto.TerminalsList{Terminals: ids, RequestID: p.RequestID}))
	return nil
}

func (ts *terminals) get(id string) *term {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.open[id]
}

// start opens a terminal: the shell starts in a new PTY, terminal_ready is sent, and the output
// streams until the shell exits.
func (ts *terminals) start(p *rproto.NewTerminal) error {
	d := ts.d
	if p.TerminalID == "" {
		return errMissing("terminalId")
	}
	cwd, err := d.roots.dir(p.Cwd.Or(""))
	if err != nil {
		return err
	}
	shell := d.cfg.Shell
	if s := p.Shell.Or(""); isExecutable(s) {
		shell = s
	}
	cmd := exec.Command(shell)
	cmd.Dir = cwd
	cmd.Env = append(environ("PIZZAPI_RUNNER_API_KEY", "PIZZAPI_API_KEY", "TERM", "COLORTERM"), "TERM=xterm-256color", "COLORTERM=truecolor")
	size := &pty.Winsize{Cols: dimension(p.Cols.Or(0), 80), Rows: dimension(p.Rows.Or(0), 24)}

	ts.mu.Lock()
	switch {
	case ts.stopping:
		err = errors.New("the runner is stopping")
	case ts.open[p.TerminalID] != nil:
		err = protocol.NewError(protocol.ErrorCodeConflict, "Terminal already exists")
	}
	var t *term
	if err == nil {
		t, err = startPTY(p.TerminalID, cmd, size)
	}
	if err == nil {
		ts.open[t.id] = t
	}
	ts.mu.Unlock()
	if err != nil {
		return err
	}
	d.log.Info("terminal opened", "terminal", t.id, "shell", shell, "cwd", cwd, "pid", cmd.Process.Pid)
	d.failed(rproto.EventTerminalReady, d.emit.TerminalReady(&protocol.TerminalReady{TerminalID: t.id}))
	go ts.run(t)
	return nil
}

// startPTY starts cmd as the leader of a new session whose controlling terminal is a new PTY.
func startPTY(id string, cmd *exec.Cmd, size *pty.Winsize) (*term, error) {
	master, err := pty.StartWithAttrs(cmd, size, &syscall.SysProcAttr{Setsid: true, Setctty: true})
	if err != nil {
		return nil, fmt.Errorf("cannot start the shell: %w", err)
	}
	f, err := pollable(master)
	if err != nil {
		signalGroup(cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return nil, err
	}
	return &term{id: id, cmd: cmd, pty: f, input: make(chan []byte, 256), done: make(chan struct{})}, nil
}

// pollable replaces f by a non-blocking duplicate served by Go's poller, so that closing it
// interrupts a Read blocked on it (creack/pty leaves the master in blocking mode).
func pollable(f *os.File) (*os.File, error) {
	defer f.Close()
	syscall.ForkLock.RLock()
	fd, err := syscall.Dup(int(f.Fd()))
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("duplicating the PTY: %w", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("duplicating the PTY: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), nil
}

// setSize resizes a PTY without taking its descriptor out of non-blocking mode (which
// pty.Setsize would do).
func setSize(f *os.File, cols, rows int64) error {
	ws := pty.Winsize{Cols: dimension(cols, 80), Rows: dimension(rows, 24)}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws)))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return fmt.Errorf("resizing the terminal: %w", errno)
	}
	return nil
}

// dimension is a terminal width or height, def when absent and at most 1000.
func dimension(v, def int64) uint16 {
	if v <= 0 {
		return uint16(def)
	}
	return uint16(min(v, 1000))
}

// run streams a terminal until its shell exits, then reports the exit and forgets it.
func (ts *terminals) run(t *term) {
	chunks := make(chan []byte, 16)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(chunks)
		for {
			buf := make([]byte, 4096)
			n, err := t.pty.Read(buf)
			if n > 0 {
				chunks <- buf[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		ts.forward(t.id, chunks)
	}()
	go t.writeInput()

	_ = t.cmd.Wait()
	code := exitCode(t.cmd.ProcessState, t.killed.Load())
	select {
	case <-readDone:
	case <-time.After(drainWait):
	}
	// What is left of the session gets a hang-up, as when a terminal window closes.
	for _, g := range session(t.cmd.Process.Pid)() {
		signalGroup(g, syscall.SIGHUP)
	}
	t.pty.Close()
	<-sent
	ts.mu.Lock()
	delete(ts.open, t.id)
	ts.mu.Unlock()
	close(t.done)
	ts.d.log.Info("terminal closed", "terminal", t.id, "exitCode", code)
	ts.d.failed(rproto.EventTerminalExit, ts.d.emit.TerminalExit(&protocol.TerminalExit{TerminalID: t.id, ExitCode: code}))
}

// forward sends PTY output as terminal_data, coalescing reads that come in quick succession.
func (ts *terminals) forward(id string, chunks <-chan []byte) {
	var buf []byte
	for first := range chunks {
		buf = append(buf[:0], first...)
		timer := time.NewTimer(coalesceWait)
	collect:
		for len(buf) < chunkBytes {
			select {
			case c, ok := <-chunks:
				if !ok {
					break collect
				}
				buf = append(buf, c...)
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		data := protocol.TerminalData{TerminalID: id, Data: base64.StdEncoding.EncodeToString(buf)}
		ts.d.failed(rproto.EventTerminalData, ts.d.emit.TerminalData(&data))
	}
}

// writeInput writes keystrokes to the PTY in order until the terminal ends.
func (t *term) writeInput() {
	for {
		select {
		case b := <-t.input:
			if _, err := t.pty.Write(b); err != nil {
				return
			}
		case <-t.done:
			return
		}
	}
}

// exitCode is the exit code a terminal reports: -1 when it was killed, 128+n for a shell killed
// by signal n, as shells report it.
func exitCode(ps *os.ProcessState, killed bool) int64 {
	if killed || ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int64(ws.Signal())
	}
	return int64(ps.ExitCode())
}

// kill ends a terminal: a hang-up for its whole session, SIGKILL for what is left of it after
// the grace period. It returns once the terminal has reported its exit.
func (ts *terminals) kill(t *term) {
	t.killed.Store(true)
	stopProcesses(session(t.cmd.Process.Pid), syscall.SIGHUP, ts.d.cfg.KillGrace)
	<-t.done
}

// stopAll ends every terminal. With stopping set (the daemon is going) it also refuses new ones.
func (ts *terminals) stopAll() {
	ts.mu.Lock()
	if ts.d.isStopping() {
		ts.stopping = true
	}
	list := make([]*term, 0, len(ts.open))
	for _, t := range ts.open {
		list = append(list, t)
	}
	ts.mu.Unlock()
	var wg sync.WaitGroup
	for _, t := range list {
		wg.Go(func() { ts.kill(t) })
	}
	wg.Wait()
}
