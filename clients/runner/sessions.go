package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	rproto "github.com/pizzapi/pizzapi/protocol/runner"
)

// restartExitCode is the exit code with which a worker asks to be started again.
const restartExitCode = 43

// safeID is what a session id must look like to name a log file.
var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// sessions are the worker processes of the agent sessions this runner started.
type sessions struct {
	d        *Daemon
	mu       sync.Mutex
	workers  map[string]*worker
	stopping bool
}

// worker is the process running one session; cmd changes when it is restarted.
type worker struct {
	id, cwd string
	log     *logFile
	cmd     *exec.Cmd // guarded by sessions.mu
	killed  bool      // guarded by sessions.mu
	done    chan struct{}
}

// NewSession implements rproto.ClientHandler: it starts a worker and answers session_ready, or
// session_error saying why not.
func (h *handler) NewSession(_ context.Context, p *rproto.NewSession) error {
	d := h.d
	err := func() error {
		if p.SessionID == "" {
			return errors.New("Missing sessionId")
		}
		if !safeID.MatchString(p.SessionID) {
			return errors.New("Invalid sessionId")
		}
		cwd, err := d.roots.dir(p.Cwd.Or(""))
		if err != nil {
			return err
		}
		var model *protocol.ModelInfo
		if m, ok := p.Model.Get(); ok {
			model = &m
		}
		return d.sessions.start(p.SessionID, cwd, p.Prompt.Or(""), model)
	}()
	if err != nil {
		d.log.Warn("cannot start a session", "session", p.SessionID, "error", err)
		d.failed(rproto.EventSessionError, d.emit.SessionError(&rproto.SessionError{SessionID: p.SessionID, Message: err.Error()}))
		return nil
	}
	d.failed(rproto.EventSessionReady, d.emit.SessionReady(&rproto.SessionReady{SessionID: p.SessionID}))
	return nil
}

// KillSession implements rproto.ClientHandler: it stops the worker, then answers session_killed
// (also for a session that is not running, so that the relay drops its link to this runner).
func (h *handler) KillSession(_ context.Context, p *rproto.KillSession) error {
	h.d.async(func() {
		h.d.sessions.kill(p.SessionID)
		h.d.failed(rproto.EventSessionKilled, h.d.emit.SessionKilled(&rproto.SessionKilled{SessionID: p.SessionID}))
	})
	return nil
}

// ListSessions implements rproto.ClientHandler.
func (h *handler) ListSessions(_ context.Context, p *rproto.ListSessions) error {
	h.d.failed(rproto.EventSessionsList, h.d.emit.SessionsList(&rproto.SessionsList{Sessions: h.d.sessions.ids(), RequestID: p.RequestID}))
	return nil
}

// start starts the worker of a new session.
func (s *sessions) start(id, cwd, prompt string, model *protocol.ModelInfo) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopping:
		return errors.New("the runner is stopping")
	case s.workers[id] != nil:
		return fmt.Errorf("session %s is already running on this runner", id)
	}
	if err := os.MkdirAll(s.d.cfg.LogDir, 0o700); err != nil {
		return fmt.Errorf("creating the log directory: %w", err)
	}
	log, err := openLog(filepath.Join(s.d.cfg.LogDir, "session-"+id+".log"), maxLogBytes)
	if err != nil {
		return err
	}
	w := &worker{id: id, cwd: cwd, log: log, done: make(chan struct{})}
	if err := s.spawn(w, prompt, model); err != nil {
		log.Close()
		return err
	}
	s.workers[id] = w
	return nil
}

// spawn starts w's process; the caller holds s.mu.
func (s *sessions) spawn(w *worker, prompt string, model *protocol.ModelInfo) error {
	argv := s.d.cfg.WorkerCommand(w.id)
	if len(argv) == 0 {
		return errors.New("no worker command")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = w.cwd
	cmd.Env = s.d.workerEnv(w.id, w.cwd, prompt, model)
	cmd.Stdout, cmd.Stderr = w.log, w.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second
	fmt.Fprintf(w.log, "--- %s starting %s in %s\n", time.Now().Format(time.RFC3339), strings.Join(argv, " "), w.cwd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start the worker: %w", err)
	}
	w.cmd = cmd
	s.d.log.Info("session worker started", "session", w.id, "pid", cmd.Process.Pid, "cwd", w.cwd)
	go s.wait(w, cmd)
	return nil
}

// wait waits for a worker's process to end. A worker that exits with restartExitCode is started
// again (without the initial prompt and model) and the relay hears session_ready again.
func (s *sessions) wait(w *worker, cmd *exec.Cmd) {
	began := time.Now()
	err := cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	fmt.Fprintf(w.log, "--- %s worker ended: %v\n", time.Now().Format(time.RFC3339), err)
	if code == restartExitCode {
		if lived := time.Since(began); lived < time.Second {
			time.Sleep(time.Second - lived) // no tight loop when a worker keeps asking
		}
		s.mu.Lock()
		again := !w.killed && !s.stopping
		if again {
			err = s.spawn(w, "", nil)
		}
		s.mu.Unlock()
		if again && err == nil {
			s.d.log.Info("session worker restarted", "session", w.id)
			s.d.failed(rproto.EventSessionReady, s.d.emit.SessionReady(&rproto.SessionReady{SessionID: w.id}))
			return
		}
		if again {
			s.d.log.Warn("cannot restart a session worker", "session", w.id, "error", err)
		}
	}
	s.d.log.Info("session worker ended", "session", w.id, "status", cmd.ProcessState.String())
	s.mu.Lock()
	delete(s.workers, w.id)
	s.mu.Unlock()
	w.log.Close()
	close(w.done)
}

// kill stops a session's worker: SIGTERM to its process group, SIGKILL after the grace period.
// It returns once the worker has ended.
func (s *sessions) kill(id string) {
	s.mu.Lock()
	w := s.workers[id]
	if w == nil {
		s.mu.Unlock()
		return
	}
	w.killed = true
	pgid := w.cmd.Process.Pid
	s.mu.Unlock()
	stopProcesses(group(pgid), syscall.SIGTERM, s.d.cfg.KillGrace)
	<-w.done
}

// stopAll stops every worker and refuses new ones.
func (s *sessions) stopAll() {
	s.mu.Lock()
	s.stopping = true
	ids := make([]string, 0, len(s.workers))
	for id := range s.workers {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() { s.kill(id) })
	}
	wg.Wait()
}

// ids lists the running sessions.
func (s *sessions) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.workers))
	for id := range s.workers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// workerEnv is the environment of a session's worker: the daemon's, minus its own credentials,
// plus what the worker needs to register the session.
func (d *Daemon) workerEnv(id, cwd, prompt string, model *protocol.ModelInfo) []string {
	set := []string{
		"PIZZAPI_RELAY_URL=" + d.cfg.RelayURL,
		"PIZZAPI_API_KEY=" + d.cfg.APIKey,
		"PIZZAPI_SESSION_ID=" + id,
		"PIZZAPI_WORKER_CWD=" + cwd,
		"PIZZAPI_RUNNER_ID=" + d.state.RunnerID, // where the agent's spawn_session starts sessions
	}
	if prompt != "" {
		set = append(set, "PIZZAPI_WORKER_INITIAL_PROMPT="+prompt)
	}
	if model != nil {
		set = append(set, "PIZZAPI_WORKER_INITIAL_MODEL_PROVIDER="+model.Provider, "PIZZAPI_WORKER_INITIAL_MODEL_ID="+model.ID)
	}
	return append(environ("PIZZAPI_RUNNER_API_KEY", "PIZZAPI_WORKER_", "PIZZAPI_RELAY_URL", "PIZZAPI_API_KEY", "PIZZAPI_SESSION_ID", "PIZZAPI_RUNNER_ID"), set...)
}

// environ returns the daemon's environment without the variables whose names start with one of
// drop.
func environ(drop ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(drop, func(p string) bool { return strings.HasPrefix(name, p) }) {
			env = append(env, kv)
		}
	}
	return env
}
