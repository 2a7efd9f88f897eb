// Package runner is the runner daemon (`pizzapi runner`). It keeps a persistent identity in a
// state file, registers on the relay's /runner namespace and, when the relay asks, starts agent
// sessions as worker processes, opens terminals in real PTYs, and answers file, git and skill
// commands, everything confined to its workspace roots.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pizzapi/pizzapi/clients/settings"
	"github.com/pizzapi/pizzapi/internal/sioclient"
	rproto "github.com/pizzapi/pizzapi/protocol/runner"
)

// ErrRestart is what Run returns when the relay asked the runner to restart: the command exits
// with code 42 so that its supervisor starts it again.
var ErrRestart = errors.New("the relay asked the runner to restart")

// Config configures a daemon. Only RelayURL, APIKey and Roots are required.
type Config struct {
	// RelayURL is the relay's base URL and APIKey the user's API key.
	RelayURL, APIKey string
	// StatePath is the state file (default ~/.pizzapi/runner.json); its lock is StatePath+".lock".
	StatePath string
	// Name is the runner's display name (default the host name).
	Name string
	// Roots are the workspace roots; at least one existing directory.
	Roots []string
	// SkillsDir holds the skills, one <name>/SKILL.md each (default ~/.pizzapi/skills).
	SkillsDir string
	// LogDir receives one log file per session worker (default ~/.pizzapi/logs).
	LogDir string
	// AgentCommand is the agent a worker runs (`pizzapi share --session-id ID -- AgentCommand...`);
	// empty runs the demo agent (`pizzapi share --session-id ID --demo`).
	AgentCommand []string
	// WorkerCommand returns the command line of a session's worker; nil uses this executable as
	// described at AgentCommand. Tests replace it.
	WorkerCommand func(sessionID string) []string
	// Shell runs in terminals (default $SHELL, else /bin/sh).
	Shell string
	// KillGrace is how long a worker or terminal gets between the polite signal and SIGKILL
	// (default 5 s).
	KillGrace time.Duration
	// RestartDelay is the pause between the relay's restart command and the exit (default 500 ms).
	RestartDelay time.Duration
	// ReconnectDelay and ReconnectDelayMax bound the exponential backoff between connection
	// attempts (default 250 ms and 10 s).
	ReconnectDelay, ReconnectDelayMax time.Duration
	// ConnectTimeout bounds one connection attempt (default 10 s).
	ConnectTimeout time.Duration
	// Logger receives the daemon's logs (default slog.Default()).
	Logger *slog.Logger
}

// Daemon is a runner daemon holding the lock of its state file.
type Daemon struct {
	cfg   Config
	log   *slog.Logger
	state State
	lock  *os.File
	roots roots

	out      sender
	emit     rproto.ClientEmitter
	sessions sessions
	terms    terminals
	skills   skills

	restart  chan struct{}
	mu       sync.Mutex // guards stopping and the start of tasks
	stopping bool
	tasks    sync.WaitGroup
}

// New checks cfg, takes the lock of the state file and loads (or creates) the runner's identity.
// A second daemon on the same state file gets a *LockedError. Close releases the lock.
func New(cfg Config) (*Daemon, error) {
	if cfg.RelayURL == "" || cfg.APIKey == "" {
		return nil, errors.New("not logged in: run `pizzapi login --server URL`, or set PIZZAPI_RELAY_URL and PIZZAPI_RUNNER_API_KEY")
	}
	r, err := newRoots(cfg.Roots)
	if err != nil {
		return nil, err
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	lock, err := lockState(cfg.StatePath)
	if err != nil {
		return nil, err
	}
	state, err := loadState(cfg.StatePath)
	if err != nil {
		lock.Close()
		return nil, err
	}
	d := &Daemon{cfg: cfg, log: cfg.Logger, state: state, lock: lock, roots: r, restart: make(chan struct{}, 1)}
	d.emit = rproto.ClientEmitter{S: &d.out}
	d.sessions = sessions{d: d, workers: map[string]*worker{}}
	d.terms = terminals{d: d, open: map[string]*term{}}
	d.skills = skills{dir: cfg.SkillsDir}
	return d, nil
}

// defaults fills in what cfg leaves empty.
func (cfg *Config) defaults() error {
	dir, err := settings.Dir()
	if err != nil && (cfg.StatePath == "" || cfg.SkillsDir == "" || cfg.LogDir == "") {
		return err
	}
	def := func(v *string, name string) {
		if *v == "" {
			*v = filepath.Join(dir, name)
		}
	}
	def(&cfg.StatePath, "runner.json")
	def(&cfg.SkillsDir, "skills")
	def(&cfg.LogDir, "logs")
	if cfg.Name == "" {
		cfg.Name, _ = os.Hostname()
	}
	if cfg.WorkerCommand == nil {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the pizzapi executable for workers: %w", err)
		}
		agent := cfg.AgentCommand
		cfg.WorkerCommand = func(id string) []string {
			argv := []string{exe, "share", "--session-id", id}
			if len(agent) == 0 {
				return append(argv, "--demo")
			}
			return append(append(argv, "--"), agent...)
		}
	}
	if cfg.Shell == "" {
		cfg.Shell = os.Getenv("SHELL")
	}
	if !isExecutable(cfg.Shell) {
		cfg.Shell = "/bin/sh"
	}
	durations := []struct {
		v   *time.Duration
		def time.Duration
	}{{&cfg.KillGrace, 5 * time.Second}, {&cfg.RestartDelay, 500 * time.Millisecond}, {&cfg.ReconnectDelay, sioclient.DefaultReconnectDelay}, {&cfg.ReconnectDelayMax, sioclient.DefaultReconnectDelayMax}, {&cfg.ConnectTimeout, 10 * time.Second}}
	for _, d := range durations {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return nil
}

// isExecutable reports whether p is an absolute path to an executable file.
func isExecutable(p string) bool {
	if !filepath.IsAbs(p) {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// ID returns the runner's persistent id.
func (d *Daemon) ID() string { return d.state.RunnerID }

// Roots returns the normalised workspace roots the runner registers.
func (d *Daemon) Roots() []string { return append([]string(nil), d.roots.list...) }

// Close releases the state file's lock.
func (d *Daemon) Close() error { return d.lock.Close() }

// Run connects to the relay and serves it until ctx ends (nil), the relay asks for a restart
// (ErrRestart) or refuses the runner's credentials (an error saying so). It reconnects with
// exponential backoff and registers again after every reconnection. Before returning it stops
// every worker and terminal. Run is called once.
func (d *Daemon) Run(ctx context.Context) error {
	delay := d.cfg.ReconnectDelay
	for {
		c, err := d.dial(ctx)
		if err != nil {
			d.shutdown()
			return err
		}
		var end error
		redial := false
		select {
		case <-ctx.Done():
		case <-d.restart:
			end = ErrRestart
		case end = <-c.end:
			redial = end == nil
		}
		if !redial {
			d.shutdown() // still connected, so the relay hears about the ends
			c.close()
			return end
		}
		c.close()
		if c.registered.Load() {
			delay = d.cfg.ReconnectDelay
		}
		wait := delay/2 + rand.N(delay/2+1)
		d.log.Info("reconnecting to the relay", "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			d.shutdown()
			return nil
		case <-d.restart:
			d.shutdown()
			return ErrRestart
		case <-time.After(wait):
		}
		delay = min(2*delay, d.cfg.ReconnectDelayMax)
	}
}

// shutdown stops every worker and terminal and waits for the commands in progress.
func (d *Daemon) shutdown() {
	d.mu.Lock()
	d.stopping = true
	d.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(d.sessions.stopAll)
	wg.Go(d.terms.stopAll)
	wg.Wait()
	d.tasks.Wait()
}

// isStopping reports whether shutdown has begun.
func (d *Daemon) isStopping() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopping
}

// async runs a command that may take a while off the connection's event goroutine; once the
// daemon is stopping it runs nothing.
func (d *Daemon) async(f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.stopping {
		d.tasks.Go(f)
	}
}

// failed logs an event the runner could not send (usually because it is offline).
func (d *Daemon) failed(event string, err error) {
	if err != nil {
		d.log.Debug("not sent", "event", event, "error", err)
	}
}
